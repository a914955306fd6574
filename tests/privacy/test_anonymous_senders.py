"""Posting as a channel or as an anonymous admin: a shared id that names no one person.

Everyone who posts "as a channel" arrives as telegram:136817688 and every anonymous
group admin as telegram:1087968824: such a poster may read, never change records, or one
could close another's case or withdraw their signature.
"""

from __future__ import annotations

import time

from telegram import Message

from bot.events import Event
from bot.telegram.translate import to_event
from tests.harness import FakeBot, Network

GROUP = {"id": -5, "type": "supergroup", "title": "Geneva caucus"}
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                   "username": "GroupAnonymousBot"}
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel",
               "username": "Channel_Bot"}


def message(sender: dict, **extra: object) -> Message:
    return Message.de_json({"message_id": 7, "date": int(time.time()), "chat": GROUP,
                            "from": sender, "text": "/cases", **extra}, None)


def test_telegram_marks_anonymous_admins_and_channel_posts_and_names_them():
    admin = to_event(message(ANONYMOUS_ADMIN, sender_chat=GROUP, author_signature="Desk"),
                     edited=False)
    assert admin.anonymous and admin.sender_name == "Desk"
    channel = to_event(message(CHANNEL_BOT, sender_chat={
        "id": -1009, "type": "channel", "title": "Coalition news"}), edited=False)
    assert channel.anonymous and channel.sender_name == "Coalition news"
    person = to_event(message({"id": 42, "is_bot": False, "first_name": "Ana"}), edited=False)
    assert not person.anonymous and person.sender_name == "Ana"


def anonymous(bot: FakeBot, text: str, sender: str = "telegram:1087968824") -> Event:
    return Event(platform="telegram", room_id="telegram:-5", message_id=str(time.time_ns()),
                 sender_id=sender, sender_name="Geneva caucus", text=text, anonymous=True,
                 timestamp=bot.now)


async def test_an_anonymous_poster_may_read_but_never_change_records(tmp_path):  # type: ignore[no-untyped-def]
    bot = FakeBot(tmp_path, Network("telegram"))
    try:
        await bot.send("/flag Egypt | Lawyer arrested")
        await bot.send(f"/role grant {bot.net.user(9)} secretariat", user=bot.admin)
        await bot.send("/statement new Letter", user=bot.net.user(9))
        await bot.send("/signon S1 Org A | Egypt")
        refused = [(await bot.dispatcher.handle(anonymous(bot, text))).reply for text in (
            "/case status 1 closed resolved", "/flag Egypt | another",
            '/withdraw S1 "Org A"', "/signon S1 Org B", "/org set Org C")]
        for reply in refused:
            assert reply is not None
            assert "posting as a channel or as the group" in reply.plain()
            assert "Post as yourself" in reply.plain()
        read = (await bot.dispatcher.handle(anonymous(bot, "/cases"))).reply
        assert read is not None and "Lawyer arrested" in read.plain()
        assert "Case #1" in await bot.say("/case 1") and "closed" not in await bot.say("/case 1")
        assert "Org A" in await bot.say("/signatories S1")
    finally:
        bot.close()


async def test_a_shared_id_never_gains_a_role_or_a_dm(tmp_path):  # type: ignore[no-untyped-def]
    bot = FakeBot(tmp_path, Network("telegram"))
    try:
        await bot.send("/role grant telegram:1087968824 secretariat", user=bot.admin)
        reply = (await bot.dispatcher.handle(anonymous(bot, "/case export"))).reply  # reads only
        assert reply is not None and "needs the secretariat role" in reply.plain()
        # Seen in a room, yet no one person: a DM from that id stays a guest's.
        await bot.dispatcher.handle(anonymous(bot, "/cases", sender="telegram:136817688"))
        dm = await bot.say("/cases", user="telegram:136817688", dm=True)
        assert "is for members of the coalition's rooms" in dm
    finally:
        bot.close()
