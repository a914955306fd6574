"""UN recommendations to States, the coalition's assessments of them, and their links.

A recommendation comes from the UPR, a treaty body or a special procedure; its
source ids (UHRI ``AnnotationId``, UPR Info entity id) are unique, so that an
import run twice updates rows instead of adding them. Implementation is
assessed by organisations: every assessment is a row of its own (who, when,
which organisation, the evidence), never overwritten. When organisations
disagree, each one's latest assessment stands beside the others: nothing is
averaged. ``statuses`` on the recommendation holds those latest statuses
(``|initiated|not-implemented|``), kept in step by :func:`assess`, so that a list
can be filtered by status in SQL.

Links go to cases and statements; whether a reader may see a linked case is
decided in ``handlers``, by the case's own confidentiality rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Integer, Table, Text, delete
from sqlmodel import Field, Session, SQLModel, col, func, or_, select

from storage.numbering import next_number
from storage.org_names import normalise_org_name
from storage.types import Keyed, UTCDateTime

SOURCES = ("upr", "treaty-body", "special-procedure")
POSITIONS = ("supported", "supported-noted", "noted", "under-consideration", "no-response")
STATUSES = ("not-assessed", "not-implemented", "initiated", "partially-implemented",
            "implemented", "regressed")
# The statuses of the recommendation gap: supported, and yet not done or undone.
GAP_STATUSES = ("not-implemented", "regressed")
SEPARATOR = "|"
# The highest recommendation number ever given (storage.numbering): R-ids are typed.
LAST_RECOMMENDATION_ID = "recommendation.last_id"


class Recommendation(Keyed, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)  # shown as R12
    source: str = Field(max_length=24, index=True)  # SOURCES
    body: str = Field(default="", max_length=128)  # "UPR", "CRC", "SR Human Rights Defenders"
    country: str = Field(max_length=2, index=True)  # the State under review, ISO alpha-2
    recommending: str = Field(default="", sa_column=Column(Text, nullable=False))  # "|"-joined
    cycle: int | None = None
    session: int | None = None
    symbol: str = Field(default="", max_length=64)  # A/HRC/52/12
    paragraph: str = Field(default="", max_length=32)  # 6.1
    text: str = Field(sa_column=Column(Text, nullable=False))
    position: str = Field(default="", max_length=24)  # POSITIONS; "" where none applies
    themes: str = Field(default="", sa_column=Column(Text, nullable=False))  # "|"-joined
    affected: str = Field(default="", sa_column=Column(Text, nullable=False))  # "|"-joined
    published: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    uhri_id: str | None = Field(default=None, max_length=64, unique=True)
    uprinfo_id: str | None = Field(default=None, max_length=64, unique=True)
    statuses: str = Field(default="", max_length=255)  # the latest per organisation, "|"-joined
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def code(self) -> str:
        return f"R{self.id}"

    @property
    def recommending_states(self) -> list[str]:
        return split(self.recommending)

    @property
    def theme_list(self) -> list[str]:
        return split(self.themes)

    @property
    def affected_list(self) -> list[str]:
        return split(self.affected)

    @property
    def current_statuses(self) -> list[str]:
        """What the organisations hold now, in the order of STATUSES; not-assessed if none."""
        held = set(split(self.statuses))
        return [s for s in STATUSES if s in held] or ["not-assessed"]

    @property
    def on_defenders(self) -> bool:
        return any("defender" in v.casefold() for v in (*self.affected_list, *self.theme_list))


class RecAssessment(Keyed, SQLModel, table=True):
    """One organisation's view of how far a recommendation is implemented, with evidence."""

    id: int | None = Field(default=None, primary_key=True)
    recommendation_id: int = Field(sa_column=Column(
        Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), nullable=False,
        index=True))
    status: str = Field(max_length=24)
    organisation: str = Field(max_length=500)  # as the organisation writes its name
    org_key: str = Field(max_length=500)  # normalise_org_name: one organisation, one voice
    assessed_by: str = Field(max_length=255)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    evidence: str = Field(default="", sa_column=Column(Text, nullable=False))  # a link or text


class RecCaseLink(SQLModel, table=True):
    recommendation_id: int = Field(sa_column=Column(
        Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True))
    case_id: int = Field(sa_column=Column(Integer, ForeignKey("case.id", ondelete="CASCADE"),
                                          primary_key=True, index=True))
    linked_by: str = Field(max_length=255)
    linked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RecStatementLink(SQLModel, table=True):
    recommendation_id: int = Field(sa_column=Column(
        Integer, ForeignKey("recommendation.id", ondelete="CASCADE"), primary_key=True))
    statement_id: int = Field(sa_column=Column(
        Integer, ForeignKey("statement.id", ondelete="CASCADE"), primary_key=True, index=True))
    linked_by: str = Field(max_length=255)
    linked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


TABLE: Table = Recommendation.__table__  # type: ignore[attr-defined]
CASE_LINKS: Table = RecCaseLink.__table__  # type: ignore[attr-defined]


def split(value: str) -> list[str]:
    return [v for v in value.split(SEPARATOR) if v]


def joined(values: list[str] | tuple[str, ...]) -> str:
    """Several values in one column; the separator cannot occur inside one."""
    return SEPARATOR.join(dict.fromkeys(v.replace(SEPARATOR, "/").strip() for v in values
                                        if v.strip()))


def new_recommendation_id(db: Session) -> int:
    return next_number(db, Recommendation.id, LAST_RECOMMENDATION_ID)


def add_recommendation(db: Session, rec: Recommendation) -> Recommendation:
    rec.id = new_recommendation_id(db)
    db.add(rec)
    db.flush()
    return rec


def by_source_id(db: Session, *, uhri_id: str | None = None,
                 uprinfo_id: str | None = None) -> Recommendation | None:
    if uhri_id:
        return db.exec(select(Recommendation).where(Recommendation.uhri_id == uhri_id)).first()
    if uprinfo_id:
        return db.exec(select(Recommendation)
                       .where(Recommendation.uprinfo_id == uprinfo_id)).first()
    return None


def find_recommendations(db: Session, *, country: str | None = None, status: str | None = None,
                         theme: str | None = None, offset: int = 0,
                         limit: int | None = 10) -> tuple[list[Recommendation], int]:
    """By State, current status and theme (a word of a theme or of the affected persons)."""
    query = select(Recommendation)
    if country is not None:
        query = query.where(Recommendation.country == country)
    if status == "not-assessed":
        query = query.where(Recommendation.statuses == "")
    elif status is not None:
        query = query.where(col(Recommendation.statuses).contains(f"{SEPARATOR}{status}"
                                                                   f"{SEPARATOR}"))
    if theme is not None:
        query = query.where(or_(col(Recommendation.themes).ilike(f"%{theme}%"),
                                col(Recommendation.affected).ilike(f"%{theme}%")))
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    rows = db.exec(query.order_by(col(Recommendation.country), col(Recommendation.id))
                   .offset(offset).limit(limit))
    return list(rows), int(total)


def assessments(db: Session, rec_id: int) -> list[RecAssessment]:
    """The whole history, oldest first."""
    return list(db.exec(select(RecAssessment).where(RecAssessment.recommendation_id == rec_id)
                        .order_by(col(RecAssessment.at), col(RecAssessment.id))))


def latest_by_organisation(history: list[RecAssessment]) -> list[RecAssessment]:
    """Each organisation's latest assessment, in the order they were made."""
    latest: dict[str, RecAssessment] = {}
    for row in history:
        latest[row.org_key] = row
    return sorted(latest.values(), key=lambda r: (r.at, r.key))


def assess(db: Session, rec: Recommendation, *, status: str, organisation: str,
           assessed_by: str, at: datetime, evidence: str = "") -> RecAssessment:
    """Record an assessment and bring ``statuses`` up to date."""
    assert rec.id is not None
    row = RecAssessment(recommendation_id=rec.id, status=status, organisation=organisation,
                        org_key=normalise_org_name(organisation), assessed_by=assessed_by,
                        at=at, evidence=evidence)
    db.add(row)
    db.flush()
    held = {r.status for r in latest_by_organisation(assessments(db, rec.id))}
    rec.statuses = (SEPARATOR + SEPARATOR.join(s for s in STATUSES if s in held) + SEPARATOR
                    if held else "")
    rec.updated_at = at
    db.add(rec)
    return row


def link_case(db: Session, rec: Recommendation, case_id: int, *, by: str,
              at: datetime) -> bool:
    """False when the link was there already."""
    if db.get(RecCaseLink, (rec.id, case_id)) is not None:
        return False
    db.add(RecCaseLink(recommendation_id=rec.key, case_id=case_id, linked_by=by,
                       linked_at=at))
    return True


def link_statement(db: Session, rec: Recommendation, statement_id: int, *, by: str,
                   at: datetime) -> bool:
    if db.get(RecStatementLink, (rec.id, statement_id)) is not None:
        return False
    db.add(RecStatementLink(recommendation_id=rec.key, statement_id=statement_id,
                            linked_by=by, linked_at=at))
    return True


def linked_cases(db: Session, rec_id: int) -> list[int]:
    return list(db.exec(select(RecCaseLink.case_id).where(RecCaseLink.recommendation_id == rec_id)
                        .order_by(col(RecCaseLink.case_id))))


def linked_statements(db: Session, rec_id: int) -> list[int]:
    return list(db.exec(select(RecStatementLink.statement_id)
                        .where(RecStatementLink.recommendation_id == rec_id)
                        .order_by(col(RecStatementLink.statement_id))))


def recommendations_of_case(db: Session, case_id: int) -> list[Recommendation]:
    linked = select(RecCaseLink.recommendation_id).where(RecCaseLink.case_id == case_id)
    return list(db.exec(select(Recommendation).where(col(Recommendation.id).in_(linked))
                        .order_by(col(Recommendation.id))))


@dataclass(frozen=True)
class UprReview:
    """A State's latest UPR review as its recommendations tell it: the Working Group
    session, and the earliest publication date of that session's recommendations (the
    calendar gives the session's own dates where it holds them)."""

    country: str
    session: int
    cycle: int | None
    published: date | None


def upr_reviews(db: Session, country: str | None = None) -> list[UprReview]:
    """Each State's latest reviewed UPR session among the recommendations kept."""
    table = TABLE
    latest = (select(table.c.country, func.max(table.c.session).label("session"))
              .where(table.c.source == "upr").where(table.c.session.is_not(None))
              .group_by(table.c.country))
    if country is not None:
        latest = latest.where(table.c.country == country)
    found = latest.subquery()
    rows = db.connection().execute(
        select(table.c.country, table.c.session, func.max(table.c.cycle),
               func.min(table.c.published))
        .join(found, (found.c.country == table.c.country) & (found.c.session == table.c.session))
        .where(table.c.source == "upr")
        .group_by(table.c.country, table.c.session).order_by(table.c.country))
    return [UprReview(c, int(s), None if cy is None else int(cy), p) for c, s, cy, p in rows]


def delete_case_links(db: Session, case_id: int) -> int:
    """For erasure: by statement, so the result is the same without enforced foreign keys."""
    return int(db.connection().execute(delete(CASE_LINKS).where(CASE_LINKS.c.case_id == case_id))
               .rowcount)



def defender_gap(db: Session, country: str | None = None) -> dict[str, tuple[int, int]]:
    """Per State: (supported recommendations on defenders, those of them an organisation
    holds not implemented or regressed)."""
    query = (select(TABLE.c.country, TABLE.c.statuses)
             .where(TABLE.c.position == "supported")
             .where(or_(TABLE.c.affected.ilike("%defender%"), TABLE.c.themes.ilike("%defender%"))))
    if country is not None:
        query = query.where(TABLE.c.country == country)
    out: dict[str, tuple[int, int]] = {}
    for state, statuses in db.connection().execute(query):
        supported, gap = out.get(state, (0, 0))
        undone = any(f"{SEPARATOR}{s}{SEPARATOR}" in statuses for s in GAP_STATUSES)
        out[state] = (supported + 1, gap + int(undone))
    return out
