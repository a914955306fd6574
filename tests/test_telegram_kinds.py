"""What a Telegram message becomes before it crosses: read from the Bot API's JSON."""

from __future__ import annotations

import time
from typing import Any

from telegram import Message

from bot.telegram.translate import to_event

GROUP = {"id": -1001, "type": "supergroup", "title": "Caucus"}
ANA = {"id": 42, "is_bot": False, "first_name": "Ana"}


def message(**fields: Any) -> Message:
    return Message.de_json({"message_id": 7, "date": int(time.time()), "chat": GROUP,
                            "from": ANA, **fields}, None)


def sticker(**fields: Any) -> dict[str, Any]:
    return {"file_id": "s1", "file_unique_id": "us1", "type": "regular", "width": 512,
            "height": 512, "is_animated": True, "is_video": False, **fields}


def test_an_animated_sticker_crosses_as_its_still_picture():
    event = to_event(message(sticker=sticker(emoji="👍", thumbnail={
        "file_id": "t1", "file_unique_id": "ut1", "width": 128, "height": 128})), edited=False)
    [still] = event.attachments
    assert (still.kind, still.ref, still.mime) == ("sticker", "t1", "image/webp")


def test_an_animated_sticker_without_a_picture_crosses_as_its_emoji():
    event = to_event(message(sticker=sticker(emoji="🎉")), edited=False)
    assert (event.text, event.unbridged, event.attachments) == (
        "🎉 (an animated sticker)", None, ())


def test_an_animated_sticker_without_picture_or_emoji_is_announced():
    event = to_event(message(sticker=sticker()), edited=False)
    assert event.unbridged == "an animated sticker" and event.text == ""


def test_a_message_in_a_paired_topic_is_that_room_s_and_not_a_thread():
    topic = {"message_thread_id": 45, "is_topic_message": True}
    paired = to_event(message(text="hi", **topic), edited=False,
                      topic_rooms={"telegram:-1001/45"})
    assert (paired.room_id, paired.thread) == ("telegram:-1001/45", None)
    other = to_event(message(text="hi", message_thread_id=46, is_topic_message=True),
                     edited=False, topic_rooms={"telegram:-1001/45"})
    assert (other.room_id, other.thread) == ("telegram:-1001", "46")
