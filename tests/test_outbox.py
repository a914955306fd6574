"""The outbox worker: order per room, flood control, permanent failures, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot import deliveries
from bot.deliveries import BotReply
from bot.outbox import Delivery, DeliveryFailed, OutboxWorker, RetryLater, backoff
from bot.replies import Reply
from storage import outbox
from storage.database import Database


def queue(database: Database, room: str, *texts: str) -> None:
    with database.session() as db:
        for text in texts:
            deliveries.enqueue(db, room, Reply.text(text), now=datetime.now(UTC))
        db.commit()


def now() -> datetime:
    return datetime.now(UTC)


def said(d: Delivery) -> str:
    assert isinstance(d.content, BotReply)
    return d.content.reply.plain()


async def test_delivers_in_order_per_room_and_records_message_ids(database: Database):
    sent: list[tuple[str, str]] = []

    async def send(d: Delivery) -> str:
        await asyncio.sleep(0.001 * (3 - d.row_id % 3))  # rooms interleave, rows must not
        sent.append((d.room_id, said(d)))
        return f"m{d.row_id}"

    queue(database, "telegram:-5", "a1", "a2", "a3")
    queue(database, "matrix:!r:x", "b1", "b2")
    worker = OutboxWorker(database, {"telegram": send, "matrix": send}, now)
    await worker.drain()
    assert [t for r, t in sent if r == "telegram:-5"] == ["a1", "a2", "a3"]
    assert [t for r, t in sent if r == "matrix:!r:x"] == ["b1", "b2"]
    with database.session() as db:
        assert outbox.pending(db) == []
        row = db.get(outbox.OutboxMessage, 1)
        assert row is not None and row.sent_message_id == "m1" and row.status == outbox.SENT


async def test_flood_control_waits_and_retries_the_same_row(database: Database):
    calls: list[str] = []

    async def send(d: Delivery) -> str:
        calls.append(said(d))
        if len(calls) == 1:
            raise RetryLater("429 Too Many Requests", after=0.05)
        return "ok"

    queue(database, "telegram:-5", "first", "second")
    await OutboxWorker(database, {"telegram": send}, now).drain()
    assert calls == ["first", "first", "second"]


async def test_permanent_failure_is_kept_and_later_rows_go_on(database: Database):
    async def send(d: Delivery) -> str:
        if said(d) == "bad":
            raise DeliveryFailed("403 Forbidden: bot was kicked")
        return "ok"

    queue(database, "telegram:-5", "bad", "good")
    await OutboxWorker(database, {"telegram": send}, now).drain()
    with database.session() as db:
        rows = db.exec(select(outbox.OutboxMessage)).all()
    assert [(r.status, r.last_error) for r in rows] == [
        ("failed", "403 Forbidden: bot was kicked"), ("sent", None)]


async def test_a_network_error_is_retried_later_not_dropped(database: Database):
    async def send(d: Delivery) -> str:
        raise ConnectionError("homeserver unreachable")

    queue(database, "matrix:!r:x", "hello")
    await OutboxWorker(database, {"matrix": send}, now).drain()
    with database.session() as db:
        (row,) = outbox.pending(db)
    # Its type only: an unexpected exception's message may quote the row's text.
    assert row.attempts == 1 and row.last_error == "unexpected ConnectionError"
    assert row.next_attempt_at > now()

    delivered: list[str] = []

    async def works(d: Delivery) -> str:
        delivered.append(said(d))
        return "ok"

    # A restart later (a new worker over the same database) resumes the row.
    later = OutboxWorker(database, {"matrix": works}, lambda: row.next_attempt_at)
    await later.drain()
    assert delivered == ["hello"]


async def test_dedupe_key_queues_once(database: Database):
    with database.session() as db:
        assert deliveries.enqueue(db, "telegram:-5", Reply.text("x"), now=now(), dedupe_key="k")
        assert deliveries.enqueue(db, "telegram:-5", Reply.text("x"), now=now(),
                              dedupe_key="k") is None
        db.commit()
        assert len(outbox.pending(db)) == 1


async def test_unknown_network_fails_visibly(database: Database):
    queue(database, "matrix:!r:x", "hello")
    await OutboxWorker(database, {}, now).drain()
    with database.session() as db:
        row = db.get(outbox.OutboxMessage, 1)
    assert row is not None and row.status == "failed"
    assert row.last_error == "no adapter for matrix is running"


def test_backoff_grows_and_is_capped():
    assert 0.5 <= backoff(0) <= 1.5
    assert 16 <= backoff(5) <= 48
    assert backoff(30) <= 450


async def test_a_row_of_an_unknown_kind_is_kept_as_failed_never_sent(database: Database):
    """A kind this version cannot read (a newer version wrote it, or it is damaged) is an
    error to keep and show, never a guess at what to send."""
    sent: list[str] = []

    async def send(d: Delivery) -> str:
        sent.append(said(d))
        return "m"

    with database.session() as db:
        outbox.add(db, "telegram:-5", kind="poll-vote", payload='{"key": "+1"}', now=now())
        outbox.add(db, "telegram:-5", kind="relay", payload="not json", now=now())
        deliveries.enqueue(db, "telegram:-5", Reply.text("after"), now=now())
        db.commit()
    worker = OutboxWorker(database, {"telegram": send}, now)
    await worker.drain(5)
    with database.session() as db:
        rows = outbox.pending(db) + list(db.exec(select(outbox.OutboxMessage)))
    failed = {r.kind: r.last_error for r in rows if r.status == outbox.FAILED}
    assert failed == {"poll-vote": "unknown delivery kind 'poll-vote'",
                      "relay": "a relay row whose payload cannot be read: JSONDecodeError"}
    assert sent == ["after"]


@pytest.mark.parametrize("content", [
    deliveries.BotReply(Reply.text("hello")),
    deliveries.Relay(deliveries.Text("Ana: hi", "<b>Ana</b>: hi")),
    deliveries.Relay(deliveries.Text("Ana: yes", "<b>Ana</b>: yes"),
                     quote=deliveries.Text("> who?", "<blockquote>who?</blockquote>")),
    deliveries.Edit(deliveries.Text("Ana: hi!", "<b>Ana</b>: hi!")),
    deliveries.Media(deliveries.Text("Ana", "<b>Ana</b>"),
                     deliveries.FileRef("telegram", "AgAD", "photo.jpg", "image/jpeg", 1234)),
    deliveries.Media(deliveries.Text("Ana", "<b>Ana</b>"), deliveries.FileRef(
        "telegram", "AwAD", "voice.ogg", "audio/ogg", 1200, "voice", duration=7)),
    deliveries.SharedLocation(deliveries.Text("Ana shared a location", "<b>Ana</b> shared a "
                                              "location"), 46.2267, 6.1404, "Palais"),
    deliveries.Redact(), deliveries.Delete(),
])
def test_every_kind_reads_back_as_it_was_written(content: deliveries.Content):
    assert deliveries.parse(content.KIND, content.payload()) == content


def test_a_file_row_queued_before_files_had_kinds_reads_as_image_or_file():
    old = '{"plain": "Ana", "html": "<b>Ana</b>", "file": {"platform": "telegram", ' \
          '"ref": "AgAD", "name": "photo.jpg", "mime": "image/jpeg", "size": 10}}'
    media = deliveries.parse("file", old)
    assert isinstance(media, deliveries.Media) and media.source.kind == "image"


class Selects:
    """Counts the statements that read outbox rows back."""

    def __init__(self, database: Database):
        self.count = 0

        def seen(conn, cursor, statement: str, *args: object) -> None:
            if statement.lstrip().upper().startswith("SELECT") and "outboxmessage" in statement:
                self.count += 1
        event.listen(database.engine, "before_cursor_execute", seen)


def queue_handed(database: Database, room: str, text: str) -> list:
    """Queue one answer as the inbound path does: the rows as written, for the worker."""
    with database.begin() as db, outbox.collecting(db) as queued:
        deliveries.enqueue(db, room, Reply.text(text), now=now())
    return queued


async def sent_when(sent: list[str], n: int) -> None:
    for _ in range(200):
        if len(sent) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {sent} sent")


async def test_a_row_handed_to_an_idle_room_is_sent_without_reading_it_back(
        database: Database):
    sent: list[str] = []

    async def send(d: Delivery) -> str:
        sent.append(said(d))
        return f"m{d.row_id}"

    worker = OutboxWorker(database, {"telegram": send}, now, poll_seconds=60)
    await worker.start()
    try:
        worker.wake("telegram:-5", queued=queue_handed(database, "telegram:-5", "first"))
        await sent_when(sent, 1)  # the room was never looked at: its row is read back
        await asyncio.sleep(0.05)
        selects = Selects(database)
        worker.wake("telegram:-5", queued=queue_handed(database, "telegram:-5", "second"))
        await sent_when(sent, 2)
        await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    assert sent == ["first", "second"]
    # Only the look for a row after it, in the transaction that marks it sent.
    assert selects.count == 1
    with database.session() as db:
        assert outbox.pending(db) == []


async def test_a_row_queued_unnamed_goes_before_a_later_one_handed_over(database: Database):
    """A reminder's row, queued by a commit that names no room, is older than a relayed
    message's row handed over just after: the room's order is the rows' order."""
    sent: list[str] = []

    async def send(d: Delivery) -> str:
        sent.append(said(d))
        return "ok"

    worker = OutboxWorker(database, {"telegram": send}, now, poll_seconds=60)
    await worker.start()
    try:
        worker.wake("telegram:-5", queued=queue_handed(database, "telegram:-5", "before"))
        await sent_when(sent, 1)
        await asyncio.sleep(0.05)  # the room is idle now
        queue(database, "telegram:-5", "reminder")
        worker.wake()  # as the scheduler does: no room named
        worker.wake("telegram:-5", queued=queue_handed(database, "telegram:-5", "relayed"))
        await sent_when(sent, 3)
    finally:
        await worker.stop()
    assert sent == ["before", "reminder", "relayed"]
