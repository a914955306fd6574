"""Retention (SQLite and PostgreSQL): old delivered rows, inbound records and links go,
what is still needed stays; replies and edits to messages past it behave as documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot import deliveries
from bot.deliveries import Edit, Relay, Text
from bot.outbox import Delivery, _prepare
from bot.replies import Reply
from storage import inbound, links, outbox, retention
from storage.cases import Case, CaseEvent, add_case, log_event
from storage.inbound import InboundSeen
from storage.models import AuditEntry
from storage.outbox import OutboxMessage
from storage.retention import apply_retention, empty_payload

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
ROOM = "matrix:!r:example.org"


def relay(db: Session, *, status: str, age_days: float, kind: str = "relay",
          payload: dict | None = None, dedupe_key: str | None = None) -> int:
    at = NOW - timedelta(days=age_days)
    row_id = outbox.add(db, ROOM, kind=kind, payload=json.dumps(
        payload or {"plain": "Ana: the lawyer Omar Ry was arrested", "html": "x"}), now=at,
        source_room="telegram:-5", source_message=f"m{age_days}", dedupe_key=dedupe_key)
    assert row_id is not None
    if status == outbox.SENT:
        outbox.mark_sent(db, row_id, f"$sent{row_id}", at)
        if kind == "relay":  # as the worker does once the copy is sent
            links.record(db, "telegram:-5", f"m{age_days}", ROOM, f"$sent{row_id}", at)
    elif status == outbox.FAILED:
        outbox.mark_failed(db, row_id, "M_FORBIDDEN: not in room")
    return row_id


def row(db: Session, row_id: int) -> OutboxMessage | None:
    db.expire_all()
    return db.get(OutboxMessage, row_id)


def kept(db: Session, row_id: int) -> OutboxMessage:
    found = row(db, row_id)
    assert found is not None
    return found


def seen(db: Session, message_id: str, age_days: float) -> None:
    assert inbound.first_sighting(db, "telegram:-5", message_id, "",
                                  NOW - timedelta(days=age_days))


def seen_ids(db: Session) -> set[str]:
    return set(db.exec(select(InboundSeen.message_id)).all())


def test_old_delivered_and_failed_rows_are_deleted_waiting_and_recent_ones_stay(db: Session):
    old_sent = relay(db, status=outbox.SENT, age_days=8)
    old_failed = relay(db, status=outbox.FAILED, age_days=9)
    recent = relay(db, status=outbox.SENT, age_days=6)
    waiting = relay(db, status=outbox.PENDING, age_days=30)
    result = apply_retention(db, now=NOW, relay_days=7, closed_case_days=None)
    assert (result.messages, result.emptied, result.cases) == (2, 0, 0)
    assert row(db, old_sent) is None and row(db, old_failed) is None
    assert "Omar Ry" in kept(db, recent).payload
    assert "Omar Ry" in kept(db, waiting).payload  # still to be delivered
    # The link stays (links have their own period), so a reply to it still finds its copy.
    assert links.copy_in(db, "telegram:-5", "m8", ROOM) == f"$sent{old_sent}"
    # The next day finds nothing more to do, and says so by staying silent.
    again = apply_retention(db, now=NOW + timedelta(days=1), relay_days=7, closed_case_days=None)
    assert not again.anything
    trail = db.exec(select(AuditEntry)).all()
    assert [e.detail for e in trail] == [
        "retention: deleted 2 delivered messages, 0 inbound records and 0 message links; "
        "dropped text of 0 kept messages; purged details of 0 closed cases"]


def test_a_first_run_over_a_long_history_deletes_it_all_batch_by_batch(
        db: Session, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(retention, "BATCH", 3)
    old = [relay(db, status=outbox.SENT, age_days=10 + n) for n in range(7)]
    for n in range(8):
        seen(db, f"old{n}", 8 + n)
    recent = relay(db, status=outbox.SENT, age_days=1)
    seen(db, "recent", 6.9)
    db.commit()
    result = apply_retention(db, now=NOW, relay_days=7, closed_case_days=None, link_days=9)
    assert (result.messages, result.seen, result.links) == (7, 8, 7)
    assert all(row(db, r) is None for r in old) and row(db, recent) is not None
    assert seen_ids(db) == {"recent"}


@pytest.mark.parametrize("kind", ["reply", "relay", "edit", "redact", "file"])
def test_a_kept_row_of_every_kind_loses_its_text_and_still_reads_as_a_delivery(
        db: Session, kind: str):
    """A row that stops a message going twice (a reminder, a topic's root) stays."""
    payloads = {
        "reply": json.loads(Reply.text("Case #3: Omar Ry").to_json()),
        "relay": {"plain": "Omar Ry", "html": "Omar Ry", "quote": ["> Omar Ry", "Omar Ry"]},
        "edit": {"plain": "Omar Ry", "html": "Omar Ry"},
        "redact": {},
        "file": {"plain": "Omar Ry", "html": "Omar Ry", "file": {
            "platform": "telegram", "ref": "AgAD-omar", "name": "omar-ry.jpg",
            "mime": "image/jpeg", "size": 1234}},
    }
    row_id = relay(db, status=outbox.SENT, age_days=10, kind=kind, payload=payloads[kind],
                   dedupe_key=f"reminder:9@{ROOM}")
    result = apply_retention(db, now=NOW, relay_days=7, closed_case_days=None)
    assert (result.messages, result.emptied) == (0, 1)
    emptied = kept(db, row_id)
    assert "Omar" not in emptied.payload and "AgAD" not in emptied.payload
    assert emptied.payload == empty_payload(kind, emptied.payload)
    # What the outbox worker reads of a row still reads: the old copy is linked.
    links.replace(db, "telegram:-5", "m10", ROOM, "$copy", NOW - timedelta(days=10))
    prepared = _prepare(db, emptied)  # type: ignore[arg-type]
    assert not isinstance(prepared, str)
    assert isinstance(prepared, Delivery) and prepared.content.KIND == kind
    # Kept for good: the same message can never be queued again.
    assert outbox.add(db, ROOM, kind=kind, payload="{}", now=NOW,
                      dedupe_key=f"reminder:9@{ROOM}") is None


def test_inbound_records_go_after_a_week_so_a_redelivery_within_it_is_still_refused(
        db: Session):
    seen(db, "100", 8)
    seen(db, "200", 6.5)
    result = apply_retention(db, now=NOW, relay_days=7, closed_case_days=None)
    assert result.seen == 1 and seen_ids(db) == {"200"}
    assert not inbound.first_sighting(db, "telegram:-5", "200", "", NOW)  # a redelivery
    assert inbound.first_sighting(db, "telegram:-5", "200", "2026-11-25T02:00", NOW)  # an edit


def test_links_go_after_their_own_period_but_a_topics_root_keeps_its_link(db: Session):
    old = relay(db, status=outbox.SENT, age_days=200)
    recent = relay(db, status=outbox.SENT, age_days=100)
    # A forum topic's root, queued again before each message of the topic, once only.
    root = outbox.add(db, ROOM, kind="relay", payload=json.dumps({"plain": "📂 Topic: Bahrain",
                                                                  "html": "x"}),
                      now=NOW - timedelta(days=300), source_room="telegram:-5",
                      source_message="45", dedupe_key=f"topic:telegram:-5:45:{ROOM}")
    assert root is not None
    outbox.mark_sent(db, root, "$root", NOW - timedelta(days=300))
    links.record(db, "telegram:-5", "45", ROOM, "$root", NOW - timedelta(days=300))
    kept_before = apply_retention(db, now=NOW, relay_days=7, closed_case_days=None)
    assert kept_before.links == 0  # no period set: links are kept for good
    result = apply_retention(db, now=NOW, relay_days=7, closed_case_days=None, link_days=180)
    assert result.links == 1
    assert links.copy_in(db, "telegram:-5", "m200", ROOM) is None
    assert links.copy_in(db, "telegram:-5", "m100", ROOM) == f"$sent{recent}"
    assert links.counterpart(db, "telegram:-5", "45", ROOM) == "$root"
    assert old != recent


def test_a_reply_to_a_message_past_the_link_period_crosses_as_a_quote_an_edit_says_why(
        db: Session):
    relay(db, status=outbox.SENT, age_days=200)
    apply_retention(db, now=NOW, relay_days=7, closed_case_days=None, link_days=180)
    answer = Relay(Text("Bo: still true", "<b>Bo</b>: still true"),
                   Text("> the lawyer was arrested", "<blockquote>the lawyer was arrested"
                        "</blockquote>"))
    reply_id = deliveries.queue(db, ROOM, answer, now=NOW, source_room="telegram:-5",
                                source_message="m300", reply_source_room="telegram:-5",
                                reply_source_message="m200")
    edit_id = deliveries.queue(db, ROOM, Edit(Text("Ana: corrected", "x")), now=NOW,
                               source_room="telegram:-5", source_message="m200")
    assert reply_id is not None and edit_id is not None
    reply = _prepare(db, kept(db, reply_id))  # type: ignore[arg-type]
    assert isinstance(reply, Delivery) and reply.reply_to is None
    assert isinstance(reply.content, Relay)
    assert reply.content.text.plain == "> the lawyer was arrested\nBo: still true"
    edit = _prepare(db, kept(db, edit_id))  # type: ignore[arg-type]
    assert edit == ("the original message was never relayed, or is older than the message "
                    "links kept ([privacy].link_retention_days), so it cannot be changed")


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
    assert trail == ["retention: deleted 0 delivered messages, 0 inbound records and 0 message "
                     "links; dropped text of 0 kept messages; purged details of 1 closed case"]
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
