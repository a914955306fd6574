"""Routing: which text is a command, who may run it, and what errors look like."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlmodel import select

from bot.arguments import Args, Param
from bot.commands import Command, Role
from bot.context import Context
from bot.replies import Reply
from storage.models import AuditEntry
from tests.harness import FakeBot, Network


async def test_help_on_both_prefixes(bot: FakeBot):
    assert "Commands you can use here" in await bot.say("/help")
    assert "Commands you can use here" in await bot.say("!help")


async def test_help_addressed_to_this_bot_or_another(bot: FakeBot):
    assert "Commands you can use here" in await bot.say("/help@CaucusBot")
    assert "Commands you can use here" in await bot.say("/help@caucusbot")
    assert await bot.say("/help@SomeOtherBot") == ""


async def test_chat_is_not_a_command(bot: FakeBot):
    assert await bot.send("hello everyone") is None
    assert await bot.send("!important: read the draft") is None
    assert await bot.send("!!!") is None


async def test_unknown_slash_command_points_to_help(bot: FakeBot):
    assert await bot.say("/frobnicate") == "Unknown command /frobnicate — try /help"


async def test_bang_near_miss_gets_a_suggestion(bot: FakeBot):
    assert await bot.say("!hepl") == "Unknown command !hepl — try !help (did you mean !help?)"


async def test_unknown_bang_word_in_a_dm_is_answered(bot: FakeBot):
    assert "Unknown command !important" in await bot.say("!important", dm=True)


async def test_silent_outside_allowed_rooms(bot: FakeBot, net: Network):
    stranger_room = "telegram:-777" if net.name == "telegram" else "matrix:!other:example.org"
    assert await bot.send("/help", room=stranger_room) is None


async def test_edits_of_commands_are_not_run_again(bot: FakeBot, net: Network):
    from bot.events import Event
    event = Event(platform=net.name, room_id=net.room, message_id="9", sender_id=net.user(1),
                  sender_name="u", text="/help", edit_of="8")
    outcome = await bot.dispatcher.handle(event)
    assert outcome.why == "edit" and outcome.reply is None


async def test_guest_in_a_dm_sees_only_guest_commands(bot: FakeBot, net: Network):
    stranger = net.user(99)
    help_text = await bot.say("/help", user=stranger, dm=True)
    assert "/whoami" in help_text and "/role" not in help_text
    assert "you are a guest" in help_text
    assert "not yet a member" in await bot.say("/start", user=stranger, dm=True)


async def test_member_seen_in_a_room_is_a_member_in_a_dm(bot: FakeBot, net: Network):
    person = net.user(7)
    assert await bot.send("good morning", user=person) is None
    assert "role member" in await bot.say("/whoami", user=person, dm=True)


async def test_refusal_names_the_role_needed(bot: FakeBot):
    answer = await bot.say("/role list")
    assert answer == "/role list needs the admin role; you are a member."


async def test_guest_refusal_explains_membership(bot: FakeBot, net: Network):
    answer = await bot.say("/audit", user=net.user(99), dm=True)
    assert "is for members of the coalition's rooms" in answer


async def boom(ctx: Context, args: Args) -> Reply:
    ctx.audit("test.boom", "x")  # a write that must not survive the failure
    # The message quotes what was typed, as a database error quotes its parameters.
    raise RuntimeError(f"secret detail: Egypt, {args.raw}")


@pytest.fixture
def crashing_bot(tmp_path: Path, net: Network):  # type: ignore[no-untyped-def]
    fake = FakeBot(tmp_path, net, extra_commands=[Command(
        "boom", boom, "Always fails", params=(Param("text", kind="text", optional=True),))])
    yield fake
    fake.close()


async def test_unexpected_error_shows_a_reference_not_a_traceback(
        crashing_bot: FakeBot, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.ERROR):
        answer = await crashing_bot.say("/boom")
    assert answer.startswith("Something went wrong (ref ")
    assert "Traceback" not in answer and "secret detail" not in answer and "Egypt" not in answer
    ref = answer.split("(ref ")[1].split(")")[0]
    assert len(ref) == 4
    # The operator gets the reference and where it failed (not the message's values).
    logged = [rec.getMessage() for rec in caplog.records if ref in rec.getMessage()]
    assert len(logged) == 1 and "RuntimeError" in logged[0] and "Traceback" in logged[0]
    assert "test_dispatcher.py" in logged[0] and "in boom" in logged[0]
    with crashing_bot.database.session() as db:
        assert db.exec(select(AuditEntry)).all() == []  # rolled back


async def test_message_text_is_never_logged(crashing_bot: FakeBot,
                                            caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.DEBUG):
        await crashing_bot.say("/boom Ahmed in Cairo")
        await crashing_bot.say("/help Ahmed in Cairo")
    assert all("Ahmed" not in rec.getMessage() and "Ahmed" not in (rec.exc_text or "")
               for rec in caplog.records)
    assert all(rec.exc_info is None for rec in caplog.records)  # a traceback has the message


async def test_commands_are_case_insensitive(bot: FakeBot):
    assert "Commands you can use here" in await bot.say("/HELP")


async def test_admin_from_config_on_each_network(bot: FakeBot):
    assert "role admin" in await bot.say("/whoami", user=bot.admin)


def test_roles_enum_labels():
    assert [r.label for r in Role] == ["guest", "member", "secretariat", "admin"]


async def test_a_command_line_is_parsed_once(tmp_path: Path, net: Network):
    """The privacy decision and the run share one reading: each value converted once."""
    seen: list[str] = []

    def counted(word: str) -> str:
        seen.append(word)
        return word

    async def echo(ctx: Context, args: Args) -> Reply:
        return Reply.text(f"got {args['word']}")

    bot = FakeBot(tmp_path, net, extra_commands=[
        Command("echo", echo, "Echo a word", params=(Param("word", parse=counted),))])
    try:
        assert await bot.say("/echo hello") == "got hello"
        assert seen == ["hello"]
    finally:
        bot.close()


async def test_the_outcome_says_why_nothing_was_answered(bot: FakeBot, net: Network):
    from bot.events import Event

    def event(text: str, room: str = net.room, n: int = 1) -> Event:
        return Event(platform=net.name, room_id=room, message_id=str(n), sender_id=net.user(1),
                     sender_name="u", text=text)

    stranger = "telegram:-777" if net.name == "telegram" else "matrix:!other:example.org"
    handle = bot.dispatcher.handle
    assert (await handle(event("/help", stranger))).why == "elsewhere"
    assert (await handle(event("hello"))).why == "chat"
    assert (await handle(event("/help@SomeOtherBot"))).why == "other-bot"
    unknown = await handle(event("/frobnicate"))
    assert unknown.why == "unknown" and unknown.reply is not None
    assert (await handle(event("/help"))).why == "answered"
    assert (await handle(event("/case 99999"))).why == "refused"
