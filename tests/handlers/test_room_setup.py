"""Rooms allowed from chat: an admin sets a room up from inside it, no restart, audited."""

from __future__ import annotations

from storage import audit
from tests.harness import FakeBot

NEW = {"telegram": "telegram:-1007", "matrix": "matrix:!new:example.org"}


def new_room(bot: FakeBot) -> str:
    return NEW[bot.net.name]


async def test_a_room_the_bot_does_not_act_in_stays_silent_for_members(bot: FakeBot):
    room = new_room(bot)
    assert await bot.say("/whoami", room=room) == ""
    assert await bot.say("/help", room=room) == ""
    assert await bot.say("hello everyone", room=room) == ""
    assert await bot.say("/room allow", room=room) == ""  # a member cannot set it up


async def test_an_admin_is_told_how_to_set_the_room_up(bot: FakeBot):
    answer = await bot.say("/cases", user=bot.admin, room=new_room(bot))
    assert answer.startswith("I do not act in this room yet. /room allow lets commands")
    assert "/bridge pair bridges it" in answer


async def test_room_allow_lets_members_use_the_bot_at_once(bot: FakeBot):
    room = new_room(bot)
    answer = await bot.say("/room allow", user=bot.admin, room=room, room_name="Geneva NGOs")
    assert answer.startswith("Geneva NGOs is allowed. Members here can use my commands")
    assert "/room secure on" in answer and "/bridge pair" in answer
    assert (await bot.say("/whoami", room=room)).startswith("You: ")
    assert (await bot.say("/flag Egypt | Lawyer arrested", room=room)).startswith("Case #1")
    assert await bot.say("/room allow", user=bot.admin, room=room) == \
        "Geneva NGOs is allowed already."
    with bot.database.session() as db:
        [entry] = audit.recent(db, actions=("room.allow",))
    assert (entry.actor_id, entry.target, entry.detail) == (bot.admin, room, "Geneva NGOs")


async def test_the_name_can_be_given(bot: FakeBot):
    answer = await bot.say("/room allow Secretariat annex", user=bot.admin, room=new_room(bot))
    assert answer.startswith("Secretariat annex is allowed.")


async def test_an_allowed_room_gets_reminders(bot: FakeBot):
    room = new_room(bot)
    await bot.say("/session add HRC67 2027-02-28 2027-04-07", user=bot.admin)
    await bot.say("/room allow", user=bot.admin, room=room)
    answer = await bot.say("/reminders", room=room)
    assert answer.startswith("Reminders here are on.\nNext (Zurich time):")
    assert "HRC67" in answer
    await bot.say("/room forget", user=bot.admin, room=room)
    await bot.say("/room allow", user=bot.admin, room=room)  # planned again, not twice
    assert await bot.say("/reminders", room=room) == answer


async def test_a_room_of_the_config_is_changed_only_in_the_config(bot: FakeBot):
    for command in ("/room allow", "/room secure on", "/room forget"):
        answer = await bot.say(command, user=bot.admin)
        assert answer == ("Caucus is in the config file (config.toml): a room from the config "
                          "is changed only there, then the bot restarted.")


async def test_not_in_a_direct_message(bot: FakeBot):
    answer = await bot.say("/room allow", user=bot.admin, dm=True)
    assert answer == "/room allow is sent in the group or room itself, not in a direct message."


async def test_secure_on_and_off(bot: FakeBot):
    room = new_room(bot)
    await bot.say("/room allow", user=bot.admin, room=room, room_name="Core group")
    answer = await bot.say("/room secure on", user=bot.admin, room=room)
    assert answer.startswith("Core group is secure: confidential case details may be shown")
    await bot.say("/flag Bahrain | Zainab summoned --confidential", user=bot.admin, dm=True)
    assert "Zainab" in await bot.say("/case 1", user=bot.admin, room=room)
    assert await bot.say("/room secure on", user=bot.admin, room=room) == \
        "Core group is secure already."
    assert (await bot.say("/room secure off", user=bot.admin, room=room)).startswith(
        "Core group is no longer secure")
    assert "Zainab" not in await bot.say("/case 1", user=bot.admin, room=room)
    with bot.database.session() as db:
        states = [e.detail for e in reversed(audit.recent(db, actions=("room.secure",)))]
    assert states == ["on", "off"]


async def test_secure_and_forget_need_an_allowed_room(bot: FakeBot):
    room = new_room(bot)
    answer = await bot.say("/room secure on", user=bot.admin, room=room)
    assert answer.startswith("I do not act in this room yet.")


async def test_forget_stops_the_bot_in_the_room(bot: FakeBot):
    room = new_room(bot)
    await bot.say("/room allow", user=bot.admin, room=room, room_name="Old group")
    answer = await bot.say("/room forget", user=bot.admin, room=room)
    assert answer.startswith("Forgotten: I no longer act in Old group")
    assert await bot.say("/whoami", room=room) == ""
    with bot.database.session() as db:
        assert [e.target for e in audit.recent(db, actions=("room.forget",))] == [room]


async def test_room_commands_are_for_admins(bot: FakeBot):
    room = new_room(bot)
    await bot.say("/room allow", user=bot.admin, room=room)
    assert await bot.say("/room forget", room=room) == \
        "/room forget needs the admin role; you are a member."
