"""One person's data: erase it, or export it for them (a data-subject access request).

A person is their canonical id (``telegram:123``, ``matrix:@a:srv``), or, for someone
who signed on a web page, ``web:`` and the e-mail they gave. Erasure
deletes what is only about them (seen names, organisation profile, role) and
replaces their id with one neutral placeholder (``erased:<random>``, shown as
"(erased user)") wherever a shared record names them, so cases, timelines,
signatures and the audit trail keep their shape and stay consistent with each
other. An organisation's signature stays: it is the organisation's, not the
person's. Nothing here reads encrypted columns to find rows: rows are found by
ids, and the export only reads what it has found.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, delete, update
from sqlmodel import Session, SQLModel, col, or_, select

from storage.cases import Case, CaseEvent, tags_of, timeline
from storage.inbound import InboundSeen
from storage.models import AuditEntry, Identity, RoleGrant, RoomSetting
from storage.outbox import OutboxMessage
from storage.recommendations import RecAssessment, RecCaseLink, Recommendation, RecStatementLink
from storage.reminders import CANCELLED, PENDING, Reminder
from storage.rooms import ChatRoom, PairingCode
from storage.statements import OrgProfile, Signature, Statement, StatementText
from storage.web_signons import erase_signer, export_signer

ERASED_PREFIX = "erased:"
ERASED_NAME = "(erased user)"
# Someone who signed on a statement's web page has no chat id: they are named by the
# e-mail they gave, "web:ana@example.org" (see storage.web_signons).
WEB_SIGNER = "web:"


def web_signer_email(user_id: str) -> str | None:
    """The e-mail of a web signer's id, or None for a chat id."""
    email = user_id.removeprefix(WEB_SIGNER)
    return email if user_id.startswith(WEB_SIGNER) and "@" in email else None


def placeholder() -> str:
    """A fresh neutral id for one erased person: stable across their records, guessless."""
    return f"{ERASED_PREFIX}{secrets.token_hex(4)}"


def is_erased(user_id: str | None) -> bool:
    return bool(user_id) and str(user_id).startswith(ERASED_PREFIX)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def erase_person(db: Session, user_id: str, *, replacement: str) -> dict[str, int]:
    """Remove or anonymise everything about ``user_id``: rows changed, per table.

    Their direct-message room is known only where its id is theirs (a Telegram
    private chat is ``telegram:<their id>``): outbox rows and settings of that room
    go. A Matrix direct-message room has an id of its own that the bot does not
    record by person, so its old messages go only with retention.

    A web signer (``web:<e-mail>``) loses the name and e-mail of their web sign-ons;
    the organisations' signatures stay.
    """
    email = web_signer_email(user_id)
    if email is not None:
        erased = erase_signer(db, email)
        return {"websignon": erased} if erased else {}
    db.flush()
    run = db.connection().execute
    identity = db.get(Identity, user_id)
    names = {user_id} | ({identity.display_name} if identity and identity.display_name else set())
    counts: dict[str, int] = {}

    def count(table: str, n: int) -> None:
        counts[table] = counts.get(table, 0) + int(n)

    def swap(model: Any, column: str) -> None:
        table = _table(model)
        count(table.name, run(update(table).where(table.c[column] == user_id)
                              .values({column: replacement})).rowcount)

    for model in (Identity, OrgProfile):
        table = _table(model)
        key = "id" if model is Identity else "user_id"
        count(table.name, run(delete(table).where(table.c[key] == user_id)).rowcount)
    grants = _table(RoleGrant)
    count("rolegrant", run(delete(grants).where(grants.c.user_id == user_id)).rowcount)
    swap(RoleGrant, "granted_by")
    # A Telegram private chat has their id as its room id: records of where things
    # were typed name them too.
    for column in ("reporter_id", "assignee_id", "room_id"):
        swap(Case, column)
    swap(CaseEvent, "actor_id")
    events = _table(CaseEvent)
    count("caseevent", run(update(events).where(events.c.kind == "assign")
                           .where(events.c.value == user_id).values(value=replacement)).rowcount)
    for column in ("signed_by", "withdrawn_by", "signed_in"):
        swap(Signature, column)
    swap(Statement, "created_by")
    swap(StatementText, "by")
    swap(Recommendation, "created_by")
    swap(RecAssessment, "assessed_by")  # the assessment is the organisation's: it stays
    swap(RecCaseLink, "linked_by")
    swap(RecStatementLink, "linked_by")
    for column in ("actor_id", "room_id", "target", "detail"):
        swap(AuditEntry, column)
    for column in ("added_by", "paired_by"):  # rooms they set up from chat
        swap(ChatRoom, column)
    swap(PairingCode, "requested_by")
    count("reminder", _erase_from_reminders(db, user_id, names, replacement))
    rooms: tuple[type[SQLModel], ...] = (OutboxMessage, InboundSeen, RoomSetting)
    for room_model in rooms:
        table = _table(room_model)
        count(table.name, run(delete(table).where(table.c.room_id == user_id)).rowcount)
    db.expire_all()
    return {table: n for table, n in counts.items() if n}


def _erase_from_reminders(db: Session, user_id: str, names: set[str],
                          replacement: str) -> int:
    """Reminders they set (``created_by`` holds a name or an id) and reminders to their DM."""
    changed = 0
    for row in db.exec(select(Reminder).where(or_(col(Reminder.created_by).in_(names),
                                                  col(Reminder.targets).contains(user_id)))):
        if row.created_by in names:
            row.created_by = replacement
        rooms = [r for r in row.rooms if r != user_id]
        if rooms != row.rooms:
            row.targets = " ".join(rooms)
            if not rooms and row.status == PENDING:
                row.status = CANCELLED
        db.add(row)
        changed += 1
    db.flush()
    return changed


def _when(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def export_person(db: Session, user_id: str, *, admins: frozenset[str] | tuple[str, ...],
                  now: datetime) -> dict[str, Any]:
    """What the bot holds about ``user_id``, as plain data for a JSON file.

    Cases they reported come with their summary and with the notes and changes
    they made themselves; confidential details, pseudonyms and other people's
    notes are left out, since they may be about someone else. Cases they are only
    assigned, and what they did on other cases, come as numbers and dates.
    """
    email = web_signer_email(user_id)
    if email is not None:
        return {"user": user_id, "exported_at": _when(now),
                "web_signons": export_signer(db, email)}
    identity = db.get(Identity, user_id)
    grant = db.get(RoleGrant, user_id)
    org = db.get(OrgProfile, user_id)
    reported = db.exec(select(Case).where(Case.reporter_id == user_id).order_by(col(Case.id)))
    assigned = db.exec(select(Case).where(Case.assignee_id == user_id)
                       .where(Case.reporter_id != user_id).order_by(col(Case.id)))
    own_cases = {c.id for c in db.exec(select(Case).where(Case.reporter_id == user_id))}
    actions = db.exec(select(CaseEvent).where(CaseEvent.actor_id == user_id)
                      .order_by(col(CaseEvent.at), col(CaseEvent.id)))
    signatures = db.exec(select(Signature, Statement)
                         .join(Statement, col(Statement.id) == col(Signature.statement_id))
                         .where(or_(Signature.signed_by == user_id,
                                    Signature.withdrawn_by == user_id))
                         .order_by(col(Signature.id)))
    audit = db.exec(select(AuditEntry).where(AuditEntry.actor_id == user_id)
                    .order_by(col(AuditEntry.id)))
    names = {user_id} | ({identity.display_name} if identity and identity.display_name else set())
    reminders = db.exec(select(Reminder).where(col(Reminder.created_by).in_(names))
                        .order_by(col(Reminder.due_at)))
    assessed = db.exec(select(RecAssessment).where(RecAssessment.assessed_by == user_id)
                       .order_by(col(RecAssessment.at), col(RecAssessment.id)))
    return {
        "user": user_id,
        "exported_at": _when(now),
        "identity": None if identity is None else {
            "display_name": identity.display_name, "member": identity.is_member,
            "first_seen": _when(identity.first_seen), "last_seen": _when(identity.last_seen)},
        "role": "admin" if user_id in admins else (grant.role if grant else "member"),
        "role_granted": None if grant is None else {
            "role": grant.role, "by": grant.granted_by, "at": _when(grant.granted_at)},
        "organisation": None if org is None else {
            "name": org.org_name, "country": org.country, "level": org.level,
            "ecosoc": org.ecosoc},
        "signatures": [{
            "statement": s.code, "title": s.title, "organisation": sig.org_name,
            "country": sig.country, "level": sig.level, "ecosoc": sig.ecosoc,
            "unlisted": sig.unlisted, "text_version": sig.text_version,
            "signed_by_you": sig.signed_by == user_id, "signed_at": _when(sig.signed_at),
            "signed_in": sig.signed_in, "withdrawn_at": _when(sig.withdrawn_at),
            "withdrawn_by_you": sig.withdrawn_by == user_id} for sig, s in signatures],
        "cases_reported": [_reported_case(db, c, user_id) for c in reported],
        "cases_assigned": [{"case": c.id, "status": c.status,
                            "updated_at": _when(c.updated_at)} for c in assigned],
        "actions_on_other_cases": [{"case": e.case_id, "at": _when(e.at), "kind": e.kind}
                                   for e in actions if e.case_id not in own_cases],
        "recommendation_assessments": [
            {"recommendation": f"R{a.recommendation_id}", "status": a.status,
             "organisation": a.organisation, "at": _when(a.at), "evidence": a.evidence}
            for a in assessed],
        "reminders_set": [{"due_at": _when(r.due_at), "text": r.text, "status": r.status}
                          for r in reminders],
        "audit_entries": [{"at": _when(e.at), "action": e.action, "target": e.target,
                           "room": e.room_id} for e in audit],
    }


def _reported_case(db: Session, case: Case, user_id: str) -> dict[str, Any]:
    return {
        "case": case.id, "country": case.country, "status": case.status,
        "close_reason": case.close_reason, "summary": case.summary,
        "tags": tags_of(db, case.key), "confidential": case.confidential,
        "consent": case.consent_scopes, "happened_on": _when(case.incident_date),
        "flagged_at": _when(case.created_at), "updated_at": _when(case.updated_at),
        "your_entries": [{"at": _when(e.at), "kind": e.kind, "value": e.value, "text": e.text}
                         for e in timeline(db, case.key) if e.actor_id == user_id],
    }
