"""The bridge engine's decisions, without a network: which rows for which event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.bridge import Bridge
from bot.config import parse_config
from bot.deliveries import Media, Relay, SharedLocation, Text
from bot.events import Attachment, Event, Location
from bot.rooms import Rooms
from storage.outbox import OutboxMessage
from tests.harness import FakeBot, Network

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
CONFIG = parse_config({"rooms": [
    {"name": "Pair", "telegram_chat_id": -5, "matrix_room_id": "!pair:x"},
    {"name": "Solo", "telegram_chat_id": -6}]})
ROOMS = Rooms.of(CONFIG)



def tg(**kw: object) -> Event:
    base = {"platform": "telegram", "room_id": "telegram:-5", "message_id": "7",
            "sender_id": "telegram:1", "sender_name": "Ana <3", "text": "hello"}
    return Event(**{**base, **kw})  # type: ignore[arg-type]


def rows(db) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    return list(db.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_partners():
    bridge = Bridge(ROOMS)
    assert bridge.partner("telegram:-5") == "matrix:!pair:x"
    assert bridge.partner("matrix:!pair:x") == "telegram:-5"
    assert bridge.partner("telegram:-6") is None


def test_a_message_becomes_one_relay_row_with_an_escaped_name(db):
    assert Bridge(ROOMS).relay(db, tg(), NOW) == 1
    [row] = rows(db)
    assert (row.kind, row.room_id, row.source_room, row.source_message) == (
        "relay", "matrix:!pair:x", "telegram:-5", "7")
    assert json.loads(row.payload) == {"plain": "Ana <3: hello", "html": "<b>Ana &lt;3</b>: hello"}


def test_replies_name_their_original_and_carry_a_quote(db):
    Bridge(ROOMS).relay(db, tg(reply_to="3", reply_quote="the question"), NOW)
    [row] = rows(db)
    assert (row.reply_source_room, row.reply_source_message) == ("telegram:-5", "3")
    assert json.loads(row.payload)["quote"] == ["> the question",
                                                "<blockquote>the question</blockquote>"]


def test_edits_and_redactions_name_the_original(db):
    bridge = Bridge(ROOMS)
    bridge.relay(db, tg(message_id="7", edit_of="7", text="hello again"), NOW)
    bridge.relay(db, Event(platform="matrix", room_id="matrix:!pair:x", message_id="$r",
                           sender_id="matrix:@a:x", sender_name="a", redacts="$orig"), NOW)
    edit, redact = rows(db)
    assert (edit.kind, edit.source_message, edit.room_id) == ("edit", "7", "matrix:!pair:x")
    assert json.loads(edit.payload)["plain"] == "Ana <3: hello again"
    assert (redact.kind, redact.source_message, redact.room_id) == ("redact", "$orig",
                                                                     "telegram:-5")


def test_files_within_limits_are_fetched_and_too_large_ones_are_announced(db):
    photo = Attachment("image", "photo.jpg", "image/jpeg", 2000, "file-1")
    huge = Attachment("file", "video.mp4", "video/mp4", 30 * 1024 * 1024, "file-2")
    Bridge(ROOMS).relay(db, tg(text="", attachments=(photo, huge)), NOW)
    first, second = rows(db)
    assert first.kind == "file" and json.loads(first.payload)["file"]["ref"] == "file-1"
    assert json.loads(first.payload)["plain"] == "Ana <3"
    assert second.kind == "relay"
    assert json.loads(second.payload)["plain"] == (
        "Ana <3 sent video.mp4 (30.0 MB) — too large to relay; see the other side.")


def test_emotes_and_forwards(db):
    bridge = Bridge(ROOMS)
    bridge.relay(db, tg(emote=True, text="waves"), NOW)
    bridge.relay(db, tg(message_id="8", forwarded_from="UN Geneva"), NOW)
    emote, forward = rows(db)
    assert json.loads(emote.payload)["plain"] == "* Ana <3 waves"
    assert json.loads(forward.payload)["plain"] == "Ana <3: ↪ forwarded from UN Geneva: hello"


def test_unpaired_rooms_relay_nothing(db):
    assert Bridge(ROOMS).relay(db, tg(room_id="telegram:-6"), NOW) == 0
    assert rows(db) == []


@pytest.fixture
def bridged_bot(tmp_path: Path, net: Network, database_url: str):  # type: ignore[no-untyped-def]
    fake = FakeBot(tmp_path, net, database_url=database_url)
    yield fake
    fake.close()


async def test_bridge_status_shows_pending_failures_and_last_error(bridged_bot: FakeBot):
    bot = bridged_bot
    with bot.database.session() as db:
        db.add(OutboxMessage(room_id="matrix:!ordinary:example.org", payload="{}",
                             created_at=bot.now, next_attempt_at=bot.now))
        db.add(OutboxMessage(room_id="telegram:-5", payload="{}", created_at=bot.now,
                             next_attempt_at=bot.now, status="failed",
                             last_error="403 Forbidden: bot was kicked"))
        db.commit()
    bot.advance(minutes=5)
    answer = await bot.say("/bridge status", user=bot.admin)
    assert answer.startswith("1 bridged pair:")
    assert "Caucus (telegram:-5 ⇄ matrix:!ordinary:example.org) — from the config — " \
        "attention" in answer
    assert "pending 1, oldest 5 min; failed 1" in answer
    assert "last error: telegram:-5: 403 Forbidden: bot was kicked" in answer
    assert "Secretariat" not in answer  # a secure room is never bridged
    assert "needs the admin role" in await bot.say("/bridge status")


def contents(**kw: object) -> list[object]:
    return list(Bridge(ROOMS).contents(tg(**kw), "matrix"))


def test_a_service_message_becomes_nothing():
    """Someone joined, a message was pinned: Telegram sends a message with no words."""
    assert contents(text="") == []


def test_a_place_becomes_a_shared_location_naming_the_sender():
    [place] = contents(text="", location=Location(46.2267, 6.1404, "Palais des Nations"))
    assert place == SharedLocation(Text("Ana <3 shared a location: Palais des Nations",
                                        "<b>Ana &lt;3</b> shared a location: Palais des Nations"),
                                   46.2267, 6.1404, "Palais des Nations")


def test_what_the_bridge_cannot_carry_is_announced_not_dropped():
    [notice] = contents(text="", unbridged="a contact card")
    assert isinstance(notice, Relay)
    assert notice.text.plain == "Ana <3 sent a contact card (not bridged: see the other side)"


def test_a_voice_note_keeps_its_kind_and_duration():
    voice = Attachment("voice", "voice.ogg", "audio/ogg", 1200, "AwAD", duration=7)
    [media] = contents(text="", attachments=(voice,))
    assert isinstance(media, Media)
    assert (media.source.kind, media.source.duration, media.source.mime) == (
        "voice", 7, "audio/ogg")


def test_a_forum_topic_gets_one_root_before_its_first_message(db):
    bridge = Bridge(ROOMS)
    bridge.relay(db, tg(message_id="8", thread="5", thread_name="Bahrain"), NOW)
    bridge.relay(db, tg(message_id="9", thread="5", thread_name="Bahrain"), NOW)
    kinds = [(r.source_message, json.loads(r.payload)["plain"]) for r in rows(db)]
    assert kinds == [("5", "📂 Topic: Bahrain"), ("8", "Ana <3: hello"), ("9", "Ana <3: hello")]
    assert json.loads(rows(db)[1].payload)["thread"] == "5"
