"""Joint statements and the organisations that sign them.

One active signature per organisation and statement is enforced by the
database (a unique index on the normalised name over rows not withdrawn), not
by check-then-insert: two members signing for the same organisation at the
same moment yield one record. Withdrawn signatures stay, for the history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, Text, distinct, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage.org_names import normalise_org_name as normalise_org_name  # re-exported
from storage.types import Keyed, UTCDateTime

LEVELS = ("local", "national", "regional", "international")
ECOSOC = ("general", "special", "roster", "none")
CHAT, WEB = "chat", "web"  # where a signature came from (Signature.source)


class Statement(Keyed, SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=500)
    deadline: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                     nullable=True))
    session: str | None = Field(default=None, max_length=32)
    url: str | None = Field(default=None, max_length=2000)
    status: str = Field(default="open", max_length=16)
    text_version: int = 1
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # The public sign-on page (``/statement web S3 on``): the unguessable part of its
    # address, kept when the page is turned off so that the link works again when on.
    web_token: str | None = Field(default=None, max_length=64, unique=True, index=True)
    web_open: bool = False

    @property
    def code(self) -> str:
        return f"S{self.id}"

    def closed_for_sign_ons(self, now: datetime) -> bool:
        """Closed by the secretariat, or past its deadline: either way nobody signs any more."""
        return self.status != "open" or (self.deadline is not None and now >= self.deadline)


class StatementText(SQLModel, table=True):
    """Each version of a statement's text (or a link to it)."""

    statement_id: int = Field(sa_column=Column(Integer, ForeignKey("statement.id",
                                                                   ondelete="CASCADE"),
                                               primary_key=True))
    version: int = Field(primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    by: str = Field(max_length=255)


class StatementRoom(SQLModel, table=True):
    """Rooms that got the announcement: they hear of new text versions and get nudges."""

    statement_id: int = Field(sa_column=Column(Integer, ForeignKey("statement.id",
                                                                   ondelete="CASCADE"),
                                               primary_key=True))
    room_id: str = Field(primary_key=True, max_length=255)


class Signature(Keyed, SQLModel, table=True):
    __table_args__ = (
        Index("uq_signature_active", "statement_id", "org_key", unique=True,
              sqlite_where=text("withdrawn_at IS NULL"),
              postgresql_where=text("withdrawn_at IS NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(sa_column=Column(Integer, ForeignKey("statement.id",
                                                                   ondelete="CASCADE"),
                                               nullable=False, index=True))
    org_name: str = Field(max_length=500)  # exactly as the organisation wants it printed
    org_key: str = Field(max_length=500)
    country: str | None = Field(default=None, max_length=2)
    level: str | None = Field(default=None, max_length=16)
    ecosoc: str | None = Field(default=None, max_length=16)
    unlisted: bool = False
    # "chat" (/signon) or "web" (the public page; its signer is in WebSignon).
    source: str = Field(default=CHAT, max_length=8)
    signed_by: str = Field(max_length=255)
    signed_in: str = Field(max_length=255)
    text_version: int = 1
    signed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                         nullable=True))
    withdrawn_by: str | None = Field(default=None, max_length=255)


class OrgProfile(SQLModel, table=True):
    """A member's organisation, saved once so that ``/signon S3`` alone signs for it."""

    user_id: str = Field(primary_key=True, max_length=255)
    org_name: str = Field(max_length=500)
    country: str | None = Field(default=None, max_length=2)
    level: str | None = Field(default=None, max_length=16)
    ecosoc: str | None = Field(default=None, max_length=16)


def active_signatures(db: Session, statement_id: int) -> list[Signature]:
    rows = db.exec(select(Signature).where(Signature.statement_id == statement_id)
                   .where(col(Signature.withdrawn_at).is_(None)))
    return sorted(rows, key=lambda s: s.org_key)


def active_signature(db: Session, statement_id: int, org_key: str) -> Signature | None:
    return db.exec(select(Signature).where(Signature.statement_id == statement_id)
                   .where(Signature.org_key == org_key)
                   .where(col(Signature.withdrawn_at).is_(None))).first()


def sign(db: Session, signature: Signature) -> tuple[Signature, bool]:
    """Insert, or return the signature already there: ``(row, created)``.

    The insert runs in a savepoint, so a clash with a concurrent sign-on
    leaves the caller's transaction usable.
    """
    try:
        with db.begin_nested():
            db.add(signature)
        return signature, True
    except IntegrityError:
        existing = active_signature(db, signature.statement_id, signature.org_key)
        if existing is None:  # the clash was withdrawn meanwhile: a real error
            raise
        return existing, False


def counts(db: Session, statement_id: int, *, source: str | None = None) -> tuple[int, int]:
    """(organisations, countries) among active signatures (of one ``source``, if given),
    counted by the database."""
    query = (select(func.count(), func.count(distinct(col(Signature.country))))
             .where(Signature.statement_id == statement_id)
             .where(col(Signature.withdrawn_at).is_(None)))
    if source is not None:
        query = query.where(Signature.source == source)
    total, countries = db.exec(query).one()
    return int(total), int(countries)


def rooms_of(db: Session, statement_id: int) -> list[str]:
    return list(db.exec(select(StatementRoom.room_id)
                        .where(StatementRoom.statement_id == statement_id)))


def open_statements(db: Session) -> list[Statement]:
    return list(db.exec(select(Statement).where(Statement.status == "open")
                        .order_by(col(Statement.deadline).is_(None), col(Statement.deadline),
                                  col(Statement.id))))
