from __future__ import annotations

from tests.harness import FakeBot, Network


async def test_help_lists_only_what_the_caller_may_use(bot: FakeBot):
    member = await bot.say("/help")
    admin = await bot.say("/help", user=bot.admin)
    assert "/role" not in member and "/audit" not in member
    assert "/role grant|revoke|list" in admin.replace("grant|list|revoke", "grant|revoke|list")
    assert "/audit [last=N]" in admin
    for both in (member, admin):
        assert "/help [command] — List the commands you can use, or explain one" in both


async def test_help_for_one_command_shows_usage_help_and_example(bot: FakeBot):
    answer = await bot.say("/help role", user=bot.admin)
    assert "/role grant <user> secretariat" in answer
    assert "Example: /role grant matrix:@ana:example.org secretariat" in answer
    assert "Needs the admin role." in answer


async def test_help_uses_the_prefix_the_caller_typed(bot: FakeBot):
    answer = await bot.say("!help role", user=bot.admin)
    assert "!role grant <user> secretariat" in answer
    assert "/role" not in answer


async def test_help_for_a_command_the_caller_may_not_use(bot: FakeBot):
    assert await bot.say("/help role") == "/role needs the admin role; you are a member."


async def test_help_for_an_unknown_command(bot: FakeBot):
    assert await bot.say("/help zzz") == "There is no command /zzz. /help lists them all."
    assert await bot.say("/help flg") == (
        "There is no command /flg (did you mean /flag?). /help lists them all.")


async def test_help_accepts_a_prefixed_topic(bot: FakeBot):
    assert "/whoami" in await bot.say("/help /whoami")


async def test_start_introduces_the_bot(bot: FakeBot):
    answer = await bot.say("/start")
    assert "flag cases" in answer and "You are a member" in answer


async def test_whoami_shows_canonical_ids(bot: FakeBot, net: Network):
    answer = await bot.say("/whoami", user=net.user(3), name="Ana")
    assert f"You: Ana — id {net.user(3)}, role member" in answer
    assert f"Here: room Caucus — id {net.room} (not secure)" in answer
    secure = await bot.say("/whoami", user=net.user(3), room=net.secure_room)
    assert "(secure)" in secure
