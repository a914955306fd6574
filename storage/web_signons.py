"""Sign-ons that arrive through a statement's public web page, and their review.

A web sign-on joins the same list as ``/signon``: the same normalised key, the same
unique index on active signatures (``storage.statements.sign``). With review on, it
waits here as ``pending`` until a secretariat approves it (it then becomes a
Signature with ``source = "web"``) or rejects it; a partial unique index keeps one
pending row per organisation and statement, so a double click or two people of one
organisation make one. With review off it is signed at once.

The signer's name and e-mail are personal data: sealed at rest (``EncryptedText``),
never shown in chat or on the page, exported only in the CSV. They are dropped when
the sign-on is rejected, withdrawn or found a duplicate, and by retention some days
after the statement's deadline (:func:`drop_signer_data`). Nothing here queries their
clear text: a person is found by e-mail by reading rows, never by a ``WHERE``.

The withdrawal link holds a random token of which only the SHA-256 is kept.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, and_, or_, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, func, select

from storage.statements import WEB, Signature, Statement, active_signature, sign
from storage.types import EncryptedText, Keyed, UTCDateTime

PENDING, APPROVED, REJECTED, WITHDRAWN, DUPLICATE = (
    "pending", "approved", "rejected", "withdrawn", "duplicate")
SIGNED_IN = "web"  # Signature.signed_in of a web signature: the page, not a chat room
BATCH = 500


class WebSignon(Keyed, SQLModel, table=True):
    __table_args__ = (
        Index("uq_websignon_pending", "statement_id", "org_key", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(sa_column=Column(Integer, ForeignKey("statement.id",
                                                                   ondelete="CASCADE"),
                                               nullable=False, index=True))
    org_name: str = Field(max_length=500)
    org_key: str = Field(max_length=500)
    country: str | None = Field(default=None, max_length=2)
    level: str | None = Field(default=None, max_length=16)
    ecosoc: str | None = Field(default=None, max_length=16)
    unlisted: bool = False
    text_version: int = 1
    # Personal data: sealed at rest, never queried (see the module docstring).
    signer_name: str | None = Field(default=None, sa_column=Column(EncryptedText(),
                                                                    nullable=True))
    signer_email: str | None = Field(default=None, sa_column=Column(EncryptedText(),
                                                                     nullable=True))
    status: str = Field(default=PENDING, max_length=16, index=True)
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                       nullable=True))
    decided_by: str | None = Field(default=None, max_length=255)
    signature_id: int | None = Field(default=None, sa_column=Column(
        Integer, ForeignKey("signature.id", ondelete="SET NULL"), nullable=True))
    withdraw_hash: str = Field(max_length=64, unique=True)

    @property
    def signer(self) -> str:
        """What a Signature records as ``signed_by`` for this web sign-on."""
        return f"web:{self.key}"


@dataclass(frozen=True)
class Submission:
    """What the page's form gave, checked and cleaned by the page."""

    org_name: str
    country: str | None
    level: str | None
    ecosoc: str | None
    unlisted: bool
    signer_name: str
    signer_email: str


@dataclass(frozen=True)
class Received:
    """A new web sign-on: pending (review on) or signed (review off), with the token of
    its withdrawal link, shown once and kept nowhere."""

    row: WebSignon
    withdraw_token: str


@dataclass(frozen=True)
class AlreadySigned:
    """The organisation has an active signature: reported, not doubled."""


@dataclass(frozen=True)
class AlreadyPending:
    """A web sign-on of the organisation already waits for review."""


Outcome = Received | AlreadySigned | AlreadyPending


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_page_token() -> str:
    """The unguessable part of a statement page's address (128 bits)."""
    return secrets.token_urlsafe(16)


def statement_for_page(db: Session, token: str) -> Statement | None:
    if not token or len(token) > 64:
        return None
    return db.exec(select(Statement).where(Statement.web_token == token)).first()


class _Taken(Exception):
    """Undo the savepoint: the organisation signed meanwhile."""


def submit(db: Session, statement: Statement, form: Submission, *, now: datetime,
           review: bool, org_key: str) -> Outcome:
    """Record a web sign-on; the caller has checked that the statement takes sign-ons.

    ``org_key`` is ``normalise_org_name(form.org_name)``, computed by the caller once.
    """
    if active_signature(db, statement.key, org_key) is not None:
        return AlreadySigned()
    token = secrets.token_urlsafe(24)
    row = WebSignon(statement_id=statement.key, org_name=form.org_name, org_key=org_key,
                    country=form.country, level=form.level, ecosoc=form.ecosoc,
                    unlisted=form.unlisted, text_version=statement.text_version,
                    signer_name=form.signer_name, signer_email=form.signer_email,
                    status=PENDING if review else APPROVED, submitted_at=now,
                    decided_at=None if review else now,
                    decided_by=None if review else "web: no review",
                    withdraw_hash=token_hash(token))
    try:
        with db.begin_nested():
            db.add(row)
            db.flush()
            if not review:
                signature, created = sign(db, _signature(row))
                if not created:
                    raise _Taken
                row.signature_id = signature.id
                db.add(row)
                db.flush()
    except _Taken:
        return AlreadySigned()
    except IntegrityError:
        if review and pending_for(db, statement.key, org_key) is not None:
            return AlreadyPending()
        raise
    return Received(row, token)


def _signature(row: WebSignon) -> Signature:
    return Signature(statement_id=row.statement_id, org_name=row.org_name, org_key=row.org_key,
                     country=row.country, level=row.level, ecosoc=row.ecosoc,
                     unlisted=row.unlisted, source=WEB, signed_by=row.signer,
                     signed_in=SIGNED_IN, text_version=row.text_version,
                     signed_at=row.submitted_at)


def pending_for(db: Session, statement_id: int, org_key: str) -> WebSignon | None:
    return db.exec(select(WebSignon).where(WebSignon.statement_id == statement_id)
                   .where(WebSignon.org_key == org_key)
                   .where(WebSignon.status == PENDING)).first()


def pending(db: Session, statement_id: int) -> list[WebSignon]:
    return list(db.exec(select(WebSignon).where(WebSignon.statement_id == statement_id)
                        .where(WebSignon.status == PENDING).order_by(col(WebSignon.id))))


def pending_count(db: Session, statement_id: int) -> int:
    return int(db.exec(select(func.count()).select_from(WebSignon)
                       .where(WebSignon.statement_id == statement_id)
                       .where(WebSignon.status == PENDING)).one())


def forget_signer(row: WebSignon) -> None:
    """Drop the name and e-mail: what is no longer needed is no longer kept."""
    row.signer_name = row.signer_email = None


def approve(db: Session, row: WebSignon, *, by: str, now: datetime) -> Signature | None:
    """Sign for the pending ``row``; None when the organisation signed meanwhile (the row
    is then marked a duplicate). The signature is dated when the organisation signed."""
    signature, created = sign(db, _signature(row))
    row.decided_at, row.decided_by = now, by
    if created:
        row.status, row.signature_id = APPROVED, signature.id
    else:
        row.status = DUPLICATE
        forget_signer(row)
    db.add(row)
    db.flush()
    return signature if created else None


def reject(db: Session, row: WebSignon, *, by: str, now: datetime) -> None:
    row.status, row.decided_at, row.decided_by = REJECTED, now, by
    forget_signer(row)
    db.add(row)
    db.flush()


def by_withdraw_token(db: Session, statement_id: int, token: str) -> WebSignon | None:
    if not token or len(token) > 64:
        return None
    return db.exec(select(WebSignon).where(WebSignon.statement_id == statement_id)
                   .where(WebSignon.withdraw_hash == token_hash(token))).first()


def signature_of(db: Session, row: WebSignon) -> Signature | None:
    return None if row.signature_id is None else db.get(Signature, row.signature_id)


def withdrawable(db: Session, row: WebSignon) -> bool:
    """Pending, or signed and not withdrawn since (by the link or by the secretariat)."""
    if row.status == PENDING:
        return True
    signature = signature_of(db, row)
    return row.status == APPROVED and signature is not None and signature.withdrawn_at is None


def withdraw(db: Session, row: WebSignon, *, now: datetime) -> bool:
    """Withdraw through the private link; False when there was nothing left to withdraw."""
    if not withdrawable(db, row):
        return False
    signature = signature_of(db, row)
    if signature is not None:
        signature.withdrawn_at, signature.withdrawn_by = now, row.signer
        db.add(signature)
    row.status, row.decided_at = WITHDRAWN, now
    row.decided_by = row.decided_by or row.signer
    forget_signer(row)
    db.add(row)
    db.flush()
    return True


def signers_by_signature(db: Session, statement_id: int) -> dict[int, WebSignon]:
    """The web sign-on behind each web signature of a statement (for the CSV)."""
    rows = db.exec(select(WebSignon).where(WebSignon.statement_id == statement_id)
                   .where(col(WebSignon.signature_id).is_not(None)))
    return {row.signature_id: row for row in rows if row.signature_id is not None}


def undecided(db: Session, statement_id: int) -> list[WebSignon]:
    """Web sign-ons that never became a signature: pending, rejected, duplicate, or
    withdrawn before review (for the CSV)."""
    return list(db.exec(select(WebSignon).where(WebSignon.statement_id == statement_id)
                        .where(col(WebSignon.signature_id).is_(None))
                        .order_by(col(WebSignon.id))))


def drop_signer_data(db: Session, *, now: datetime, days: int) -> int:
    """Clear name and e-mail ``days`` after the statement's deadline (after the sign-on,
    for a statement without one); how many rows lost them. Chosen by dates only."""
    before = now - timedelta(days=days)
    ids = list(db.exec(
        select(WebSignon.id).join(Statement, col(Statement.id) == col(WebSignon.statement_id))
        .where(or_(col(WebSignon.signer_name).is_not(None),
                   col(WebSignon.signer_email).is_not(None)))
        .where(or_(and_(col(Statement.deadline).is_not(None), col(Statement.deadline) < before),
                   and_(col(Statement.deadline).is_(None), col(WebSignon.submitted_at) < before)))))
    for row_id in ids:
        row = db.get(WebSignon, row_id)
        if row is not None:
            forget_signer(row)
            db.add(row)
    db.flush()
    return len(ids)


def _with_signer_data(db: Session) -> Iterator[WebSignon]:
    """Every row that still has an e-mail, a batch at a time (the e-mail is sealed, so
    finding a person means reading rows, not asking the database)."""
    last = 0
    while True:
        rows = list(db.exec(select(WebSignon).where(col(WebSignon.signer_email).is_not(None))
                            .where(col(WebSignon.id) > last)
                            .order_by(col(WebSignon.id)).limit(BATCH)))
        if not rows:
            return
        yield from rows
        last = rows[-1].key


def of_email(db: Session, email: str) -> list[WebSignon]:
    wanted = email.strip().casefold()
    return [row for row in _with_signer_data(db)
            if (row.signer_email or "").strip().casefold() == wanted]


def erase_signer(db: Session, email: str) -> int:
    """Drop the name and e-mail of every web sign-on made with ``email``; how many.
    The organisations' signatures stay: they are the organisations', not the person's."""
    rows = of_email(db, email)
    for row in rows:
        forget_signer(row)
        db.add(row)
    db.flush()
    return len(rows)


def export_signer(db: Session, email: str) -> list[dict[str, Any]]:
    """What the bot holds about the person who signed with ``email``."""
    out = []
    for row in of_email(db, email):
        statement = db.get(Statement, row.statement_id)
        out.append({
            "statement": f"S{row.statement_id}",
            "title": statement.title if statement else None,
            "organisation": row.org_name, "country": row.country, "level": row.level,
            "ecosoc": row.ecosoc, "unlisted": row.unlisted, "your_name": row.signer_name,
            "your_email": row.signer_email, "status": row.status,
            "submitted_at": row.submitted_at.isoformat(),
            "decided_at": row.decided_at.isoformat() if row.decided_at else None})
    return out
