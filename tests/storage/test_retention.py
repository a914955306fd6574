"""Retention (SQLite and PostgreSQL): old delivered text goes, ids and links stay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.outbox import Delivery, _prepare
from bot.replies import Reply
from storage import links, outbox
from storage.cases import Case, CaseEvent, add_case, log_event
from storage.models import AuditEntry
from storage.outbox import OutboxMessage
from storage.retention import apply_retention, empty_payload

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ROOM = "matrix:!r:example.org"



def relay(db: Session, *, status: str, age_days: float, kind: str = "relay",
          payload: dict | None = None) -> int:
    at = NOW - timedelta(days=age_days)
    row_id = outbox.add(db, ROOM, kind=kind, payload=json.dumps(
        payload or {"plain": "Ana: the lawyer Omar Ry was arrested", "html": "x"}), now=at,
        source_room="telegram:-5", source_message=f"m{age_days}")
    assert row_id is not None
    if status == outbox.SENT:
        outbox.mark_sent(db, row_id, f"$sent{row_id}", at)
    elif status == outbox.FAILED:
        outbox.mark_failed(db, row_id, "M_FORBIDDEN: not in room")
    return row_id


def row(db: Session, row_id: int) -> OutboxMessage:
    db.expire_all()
    found = db.get(OutboxMessage, row_id)
    assert found is not None
    return found


def test_old_delivered_and_failed_rows_lose_their_text_keep_ids_and_errors(db: Session):
    old_sent = relay(db, status=outbox.SENT, age_days=8)
    old_failed = relay(db, status=outbox.FAILED, age_days=9)
    recent = relay(db, status=outbox.SENT, age_days=6)
    waiting = relay(db, status=outbox.PENDING, age_days=30)
    links.record(db, "telegram:-5", "m8", ROOM, f"$sent{old_sent}", NOW - timedelta(days=8))
    result = apply_retention(db, now=NOW, relay_days=7, closed_case_days=None)
    assert (result.messages, result.cases) == (2, 0)
    for row_id in (old_sent, old_failed):
        assert "Omar Ry" not in row(db, row_id).payload
        assert json.loads(row(db, row_id).payload) == {"plain": "", "html": ""}
    assert row(db, old_sent).sent_message_id == f"$sent{old_sent}"
    assert row(db, old_failed).last_error == "M_FORBIDDEN: not in room"
    assert "Omar Ry" in row(db, recent).payload
    assert "Omar Ry" in row(db, waiting).payload  # still to be delivered
    assert links.copy_in(db, "telegram:-5", "m8", ROOM) == f"$sent{old_sent}"
    # The next day finds nothing more to do, and says so by staying silent.
    again = apply_retention(db, now=NOW + timedelta(days=1), relay_days=7, closed_case_days=None)
    assert again.messages == 0
    trail = db.exec(select(AuditEntry)).all()
    assert [e.detail for e in trail] == ["retention: dropped text of 2 delivered messages; "
                                         "purged details of 0 closed cases"]


@pytest.mark.parametrize("kind", ["reply", "relay", "edit", "redact", "file"])
def test_an_emptied_row_of_every_kind_still_reads_as_a_delivery(db: Session, kind: str):
    payloads = {
        "reply": json.loads(Reply.text("Case #3: Omar Ry").to_json()),
        "relay": {"plain": "Omar Ry", "html": "Omar Ry", "quote": ["> Omar Ry", "Omar Ry"]},
        "edit": {"plain": "Omar Ry", "html": "Omar Ry"},
        "redact": {},
        "file": {"plain": "Omar Ry", "html": "Omar Ry", "file": {
            "platform": "telegram", "ref": "AgAD-omar", "name": "omar-ry.jpg",
            "mime": "image/jpeg", "size": 1234}},
    }
    row_id = relay(db, status=outbox.SENT, age_days=10, kind=kind, payload=payloads[kind])
    apply_retention(db, now=NOW, relay_days=7, closed_case_days=None)
    emptied = row(db, row_id)
    assert "Omar" not in emptied.payload and "AgAD" not in emptied.payload
    assert emptied.payload == empty_payload(kind, emptied.payload)
    # What the outbox worker reads of a row still reads: the old copy is linked.
    links.record(db, "telegram:-5", "m10", ROOM, "$copy", NOW - timedelta(days=10))
    prepared = _prepare(db, emptied)  # type: ignore[arg-type]
    assert not isinstance(prepared, str)
    assert isinstance(prepared, Delivery) and prepared.content.KIND == kind


def closed_case(db: Session, *, closed_days_ago: float, note_days_ago: float | None = None) -> int:
    flagged = NOW - timedelta(days=400)
    case = add_case(db, Case(country="BH", summary="Summoned after a side event",
                             reporter_id="telegram:7", room_id="telegram:7",
                             pseudonym="Activist Kz", details="Real name Omar Ry",
                             created_at=flagged, updated_at=flagged), [])
    log_event(db, case, at=flagged, actor_id="telegram:7", kind="note",
              text="Lawyer Hassan Vy called")
    case.status, case.close_reason = "closed", "resolved"
    log_event(db, case, at=NOW - timedelta(days=closed_days_ago), actor_id="telegram:7",
              kind="status", value="closed", text="resolved")
    if note_days_ago is not None:
        log_event(db, case, at=NOW - timedelta(days=note_days_ago), actor_id="telegram:7",
                  kind="note", text="Follow-up after closing")
    db.flush()
    assert case.id is not None
    return case.id


def test_cases_closed_long_enough_ago_lose_details_pseudonym_and_notes(db: Session):
    old = closed_case(db, closed_days_ago=40, note_days_ago=2)  # closed long ago, noted since
    recent = closed_case(db, closed_days_ago=10)
    result = apply_retention(db, now=NOW, relay_days=7, closed_case_days=30)
    assert result.cases == 1
    db.expire_all()
    purged = db.get(Case, old)
    assert purged is not None
    assert (purged.details, purged.pseudonym) == (None, None)
    assert purged.summary == "Summoned after a side event" and purged.status == "closed"
    texts = db.exec(select(CaseEvent.text).where(CaseEvent.case_id == old)).all()
    assert texts and set(texts) == {""}
    kept = db.get(Case, recent)
    assert kept is not None and kept.details == "Real name Omar Ry"
    assert apply_retention(db, now=NOW, relay_days=7, closed_case_days=30).cases == 0
    trail = db.exec(select(AuditEntry.detail)).all()
    assert trail == ["retention: dropped text of 0 delivered messages; purged details of 1 "
                     "closed case"]
    assert not any("Omar" in t or "Kz" in t for t in trail)


def test_without_a_closed_case_period_closed_cases_keep_their_details(db: Session):
    case_id = closed_case(db, closed_days_ago=4000)
    assert apply_retention(db, now=NOW, relay_days=7, closed_case_days=None).cases == 0
    db.expire_all()
    case = db.get(Case, case_id)
    assert case is not None and case.details == "Real name Omar Ry"
    assert db.exec(select(AuditEntry)).all() == []


def test_a_closed_case_without_a_closing_event_counts_from_its_last_update(db: Session):
    at = NOW - timedelta(days=60)
    case = add_case(db, Case(country="EG", summary="s", status="closed", reporter_id="x",
                             room_id="x", details="Omar Ry", created_at=at, updated_at=at), [])
    assert apply_retention(db, now=NOW, relay_days=7, closed_case_days=30).cases == 1
    db.expire_all()
    assert db.get(Case, case.id).details is None  # type: ignore[union-attr]
