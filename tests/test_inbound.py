"""Inbound handling: a command, its record as handled and its answer commit together."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import func, select

from bot import deliveries
from bot.events import Event
from bot.inbound import Inbound
from bot.replies import Reply
from storage.cases import Case
from storage.outbox import OutboxMessage
from tests.harness import FakeBot, Network

ROOM, PARTNER = "telegram:-5", "matrix:!ordinary:example.org"  # a bridged pair


@pytest.fixture
def bot(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    fake = FakeBot(tmp_path, Network("telegram"), database_url=database_url)
    yield fake
    fake.database.dispose()


def inbound(bot: FakeBot) -> Inbound:
    return Inbound(bot.dispatcher, bot.database, lambda: bot.now, lambda *rooms, **queued: None)


def said(bot: FakeBot, text: str, message_id: str = "7") -> Event:
    return Event(platform="telegram", room_id=ROOM, message_id=message_id,
                 sender_id="telegram:1001", sender_name="Ana", text=text, timestamp=bot.now)


def queued(bot: FakeBot) -> list[tuple[str, str]]:
    with bot.database.session() as db:
        rows = db.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
    return [(r.room_id, Reply.from_json(r.payload).plain() if r.kind == "reply" else r.kind)
            for r in rows]


def cases(bot: FakeBot) -> int:
    with bot.database.session() as db:
        return db.exec(select(func.count()).select_from(Case)).one()


async def test_a_command_whose_answer_cannot_be_queued_is_not_done_and_runs_again(
        bot: FakeBot, monkeypatch: pytest.MonkeyPatch):
    """The database fails as the answer is queued: the case must not be flagged without an
    answer, nor the message taken as handled; the network's next delivery does it all."""
    enqueue = deliveries.enqueue

    def full(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("INSERT", {}, Exception("database or disk is full"))

    monkeypatch.setattr(deliveries, "enqueue", full)
    with pytest.raises(OperationalError):
        await inbound(bot).receive(said(bot, "/flag Egypt | Lawyer arrested"))
    assert cases(bot) == 0 and queued(bot) == []  # nothing half done, no relay either
    monkeypatch.setattr(deliveries, "enqueue", enqueue)
    assert await inbound(bot).receive(said(bot, "/flag Egypt | Lawyer arrested"))
    assert cases(bot) == 1
    answers = [text for room, text in queued(bot) if room == ROOM]
    # The number is the stored case's (PostgreSQL's sequences do not take back the number
    # the failed attempt drew, so it may be #2 there).
    with bot.database.session() as db:
        number = db.exec(select(Case.id)).one()
    assert len(answers) == 1 and answers[0].startswith(f"Case #{number} flagged: Egypt")


async def test_a_command_delivered_twice_runs_and_is_answered_once(bot: FakeBot):
    handler = inbound(bot)
    assert await handler.receive(said(bot, "/flag Egypt | Lawyer arrested"))
    assert not await handler.receive(said(bot, "/flag Egypt | Lawyer arrested"))
    assert cases(bot) == 1
    # The answer here; the command and its answer on the other side, in that order.
    assert [room for room, _ in queued(bot)] == [ROOM, PARTNER, PARTNER]


async def test_a_failed_command_is_answered_once_with_its_error(bot: FakeBot):
    handler = inbound(bot)
    assert await handler.receive(said(bot, "/flag"))
    assert not await handler.receive(said(bot, "/flag"))
    answers = [text for room, text in queued(bot) if room == ROOM]
    assert len(answers) == 1 and "/flag" in answers[0]
    assert cases(bot) == 0


def handing(bot: FakeBot, woken: list[tuple[tuple[str, ...], list[Any]]]) -> Inbound:
    return Inbound(bot.dispatcher, bot.database, lambda: bot.now,
                   lambda *rooms, queued=(): woken.append((rooms, list(queued))))


async def test_a_relayed_message_and_a_command_answer_reach_the_worker_as_committed(
        bot: FakeBot):
    """The worker is handed the rows as they were written, so an idle room sends them
    without reading them back: they must be the committed rows, ids and words alike."""
    woken: list[tuple[tuple[str, ...], list[Any]]] = []
    handler = handing(bot, woken)
    assert await handler.receive(said(bot, "hello from Geneva", "8"))
    assert await handler.receive(said(bot, "/whoami", "9"))
    with bot.database.session() as db:
        rows = {r.id: r for r in db.exec(select(OutboxMessage))}
    handed = [row for _, rows_ in woken for row in rows_]
    assert [(r.room_id, r.kind) for r in handed] == [
        (PARTNER, "relay"), (ROOM, "reply"), (PARTNER, "relay"), (PARTNER, "reply")]
    for row in handed:
        assert (row.room_id, row.kind, row.payload) == (
            rows[row.id].room_id, rows[row.id].kind, rows[row.id].payload)
    assert "hello from Geneva" in handed[0].payload
    assert woken[1][0] == (ROOM, PARTNER)


async def test_a_failed_command_hands_over_only_its_error_answer(bot: FakeBot):
    woken: list[tuple[tuple[str, ...], list[Any]]] = []
    assert await handing(bot, woken).receive(said(bot, "/flag"))
    (rooms, handed), = woken
    assert rooms == (ROOM, PARTNER)  # the partner is looked at (nothing crossed): no harm
    assert [(r.room_id, r.kind) for r in handed] == [(ROOM, "reply")]
    assert "Usage" in Reply.from_json(handed[0].payload).plain()
    with bot.database.session() as db:
        assert [r.id for r in db.exec(select(OutboxMessage))] == [handed[0].id]
