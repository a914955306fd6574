"""The outbox worker: order per room, flood control, permanent failures, restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.outbox import Delivery, DeliveryFailed, OutboxWorker, RetryLater, backoff
from bot.replies import Reply
from storage import outbox
from storage.database import Database


@pytest.fixture
def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'o.db'}")
    db.upgrade()
    yield db
    db.dispose()


def queue(database: Database, room: str, *texts: str) -> None:
    with database.session() as db:
        for text in texts:
            outbox.enqueue(db, room, Reply.text(text), now=datetime.now(UTC))
        db.commit()


def now() -> datetime:
    return datetime.now(UTC)


async def test_delivers_in_order_per_room_and_records_message_ids(database: Database):
    sent: list[tuple[str, str]] = []

    async def send(d: Delivery) -> str:
        await asyncio.sleep(0.001 * (3 - d.row_id % 3))  # rooms interleave, rows must not
        sent.append((d.room_id, d.reply.plain()))
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
        calls.append(d.reply.plain())
        if len(calls) == 1:
            raise RetryLater("429 Too Many Requests", after=0.05)
        return "ok"

    queue(database, "telegram:-5", "first", "second")
    await OutboxWorker(database, {"telegram": send}, now).drain()
    assert calls == ["first", "first", "second"]


async def test_permanent_failure_is_kept_and_later_rows_go_on(database: Database):
    async def send(d: Delivery) -> str:
        if d.reply.plain() == "bad":
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
        delivered.append(d.reply.plain())
        return "ok"

    # A restart later (a new worker over the same database) resumes the row.
    later = OutboxWorker(database, {"matrix": works}, lambda: row.next_attempt_at)
    await later.drain()
    assert delivered == ["hello"]


async def test_dedupe_key_queues_once(database: Database):
    with database.session() as db:
        assert outbox.enqueue(db, "telegram:-5", Reply.text("x"), now=now(), dedupe_key="k")
        assert outbox.enqueue(db, "telegram:-5", Reply.text("x"), now=now(),
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
