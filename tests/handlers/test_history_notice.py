"""Never a silent gap: the side of each pair that missed messages is told, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import parse_config
from bot.features import HistoryGap
from bot.history_gaps import LastContact
from bot.replies import Reply
from bot.rooms import Rooms
from handlers.history_notice import history_lost
from storage import inbound, outbox
from storage.database import Database

CONFIG = parse_config({"bot": {"timezone": "Europe/Zurich"}, "rooms": [
    {"name": "Caucus", "telegram_chat_id": -5, "matrix_room_id": "!a:x"},
    {"name": "Other", "telegram_chat_id": -6, "matrix_room_id": "!b:x"},
    {"name": "Solo", "telegram_chat_id": -7}]})
START = datetime(2026, 11, 23, 13, 2, tzinfo=UTC)
END = datetime(2026, 11, 24, 8, 15, tzinfo=UTC)


def database(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{tmp_path / 'h.db'}")
    db.upgrade()
    return db


def queued(database: Database) -> list[tuple[str, str]]:
    with database.session() as db:
        return [(r.room_id, Reply.from_json(r.payload).plain()) for r in outbox.pending(db)]


def test_telegram_lost_updates_are_told_on_the_matrix_side_of_each_pair(tmp_path: Path):
    store = database(tmp_path)
    gap = HistoryGap("telegram", START, END)
    for _ in range(2):  # said twice (a restart before the contact was stored): told once
        with store.session() as db:
            history_lost(db, Rooms.of(CONFIG), gap, CONFIG, END)
            db.commit()
    assert queued(store) == [(room, (
        "Messages sent on Telegram between Mon 23 Nov 2026, 14:02 and Tue 24 Nov 2026, 09:15 "
        "(Zurich time) could not be relayed: Telegram keeps a bot's messages for about a "
        "day, and the bot was away longer. Read them in the Telegram group."))
        for room in ("matrix:!a:x", "matrix:!b:x")]
    store.dispose()


def test_a_matrix_gap_in_one_room_is_told_in_its_partner_only(tmp_path: Path):
    store = database(tmp_path)
    with store.session() as db:
        told = history_lost(db, Rooms.of(CONFIG), HistoryGap("matrix", START, END, "matrix:!b:x"),
                            CONFIG, END)
        db.commit()
    assert told == ["telegram:-6"]
    [(room, text)] = queued(store)
    assert room == "telegram:-6" and text.startswith("Messages sent on Matrix between ")
    assert "more were sent while the bot was away than it fetches at once" in text
    store.dispose()


def test_the_last_contact_is_kept_and_tells_when_the_silence_began(tmp_path: Path):
    store = database(tmp_path)
    contact = LastContact(store, "telegram.contact_at")
    contact.load()
    assert contact.at is None
    contact.touch(START)
    contact.touch(START + timedelta(seconds=5))
    assert contact.at == START + timedelta(seconds=5)
    again = LastContact(store, "telegram.contact_at")
    again.load()
    assert again.at == START  # the second touch was too soon to write
    again.touch(END)
    with store.session() as db:
        assert inbound.get_resume(db, "telegram.contact_at") == END.isoformat()
    store.dispose()


def test_a_database_that_cannot_take_the_contact_stops_nothing(tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    store = database(tmp_path)
    contact = LastContact(store, "telegram.contact_at")
    real = inbound.set_resume

    def locked(*args: object) -> None:
        raise OperationalError("UPDATE", {}, Exception("database is locked"))

    monkeypatch.setattr(inbound, "set_resume", locked)
    contact.touch(START)  # logged, not raised: polling goes on
    monkeypatch.setattr(inbound, "set_resume", real)
    contact.touch(START + timedelta(seconds=1))  # not written before: written now
    with store.session() as db:
        assert inbound.get_resume(db, "telegram.contact_at") == (
            START + timedelta(seconds=1)).isoformat()
    store.dispose()
