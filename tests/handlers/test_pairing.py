"""Pairing by code from chat: one-time, ten minutes, admins only; unpair with a confirmation."""

from __future__ import annotations

import re

import pytest

from storage import audit
from tests.harness import FakeBot

TELEGRAM, MATRIX = "telegram:-1007", "matrix:!new:example.org"
# Where the code is asked for, and where it is typed: both ways round.
WAYS = [(MATRIX, TELEGRAM), (TELEGRAM, MATRIX)]


def code_in(answer: str) -> str:
    match = re.search(r"Pairing code: ([A-Z0-9]{8})", answer)
    assert match, answer
    return match.group(1)


async def ask_code(bot: FakeBot, room: str, name: str = "Caucus 2") -> str:
    return code_in(await bot.say("/bridge pair", user=bot.admin, room=room, room_name=name))


@pytest.mark.parametrize("first, second", WAYS)
async def test_a_code_pairs_the_rooms_at_once(bot: FakeBot, first: str, second: str):
    answer = await bot.say("/bridge pair", user=bot.admin, room=first, room_name="Geneva")
    code = code_in(answer)
    other = "!" if second.startswith("matrix") else "/"
    assert "(valid 10 minutes, once)." in answer
    assert f"an admin sends: {other}bridge pair {code}" in answer
    answer = await bot.say(f"/bridge pair {code}", user=bot.admin, room=second,
                           room_name="Geneva")
    kind = "Matrix room" if first.startswith("matrix") else "Telegram group"
    assert answer.startswith(f"Bridged with the {kind} Geneva. Messages now cross both ways.")
    assert bot.dispatcher.rooms.partner(first) == second
    assert bot.dispatcher.rooms.partner(second) == first
    [(told, notice)] = bot.queued()
    assert told == first and notice.plain().startswith("Bridged with the ")
    with bot.database.session() as db:
        [entry] = audit.recent(db, actions=("bridge.pair",))
    assert entry.target == f"{first} ⇄ {second}" and entry.actor_id == bot.admin
    # both rooms act now: members may use commands there
    assert (await bot.say("/whoami", room=first)).startswith("You: ")


async def test_the_code_is_stored_only_as_a_hash(bot: FakeBot):
    from sqlmodel import select

    from storage.rooms import PairingCode

    code = await ask_code(bot, MATRIX)
    with bot.database.session() as db:
        [row] = db.exec(select(PairingCode)).all()
    assert code not in row.code_hash and len(row.code_hash) == 64


async def test_a_code_works_once(bot: FakeBot):
    code = await ask_code(bot, MATRIX)
    await bot.say(f"/bridge pair {code}", user=bot.admin, room=TELEGRAM)
    answer = await bot.say(f"/bridge pair {code}", user=bot.admin, room="telegram:-1008")
    assert answer.startswith("That pairing code is not valid: mistyped, or used already")
    assert bot.dispatcher.rooms.partner("telegram:-1008") is None


async def test_a_code_lives_ten_minutes(bot: FakeBot):
    code = await ask_code(bot, MATRIX)
    bot.advance(minutes=10, seconds=1)
    answer = await bot.say(f"/bridge pair {code}", user=bot.admin, room=TELEGRAM)
    assert answer.startswith("That pairing code has expired: a code works for 10 minutes.")
    assert bot.dispatcher.rooms.partner(TELEGRAM) is None


async def test_a_code_typed_in_lower_case_still_works(bot: FakeBot):
    code = await ask_code(bot, MATRIX)
    await bot.say(f"/bridge pair {code.lower()}", user=bot.admin, room=TELEGRAM)
    assert bot.dispatcher.rooms.partner(TELEGRAM) == MATRIX


async def test_a_new_code_replaces_the_rooms_earlier_one(bot: FakeBot):
    old = await ask_code(bot, MATRIX)
    await ask_code(bot, MATRIX)
    answer = await bot.say(f"/bridge pair {old}", user=bot.admin, room=TELEGRAM)
    assert answer.startswith("That pairing code is not valid")


async def test_same_room_or_same_network_is_refused_and_the_code_kept(bot: FakeBot):
    code = await ask_code(bot, MATRIX)
    assert await bot.say(f"/bridge pair {code}", user=bot.admin, room=MATRIX) == (
        "That code was made in this room: send it in the Telegram group to bridge with.")
    assert await bot.say(f"/bridge pair {code}", user=bot.admin,
                         room="matrix:!other:example.org") == (
        "That code was made in another Matrix room: a pair is one Telegram group and one "
        "Matrix room.")
    await bot.say(f"/bridge pair {code}", user=bot.admin, room=TELEGRAM)
    assert bot.dispatcher.rooms.partner(TELEGRAM) == MATRIX


async def test_a_member_cannot_pair(bot: FakeBot):
    code = await ask_code(bot, MATRIX)
    assert await bot.say(f"/bridge pair {code}", room=TELEGRAM) == ""  # not set up: silence
    assert await bot.say("/bridge pair", room=MATRIX) == ""
    await bot.say("/room allow", user=bot.admin, room=TELEGRAM)
    assert await bot.say(f"/bridge pair {code}", room=TELEGRAM) == \
        "/bridge pair needs the admin role; you are a member."
    assert bot.dispatcher.rooms.partner(TELEGRAM) is None


async def test_config_rooms_and_pairs_are_changed_in_the_config(bot: FakeBot):
    assert (await bot.say("/bridge pair", user=bot.admin)).startswith(
        "Caucus is in the config file (config.toml)")
    assert (await bot.say("/bridge unpair", user=bot.admin)).startswith(
        "The pair Caucus is in the config file (config.toml): remove telegram_chat_id or "
        "matrix_room_id")
    code = await ask_code(bot, MATRIX)
    answer = await bot.say(f"/bridge pair {code}", user=bot.admin, room="telegram:-9")
    assert answer.startswith("Secretariat is in the config file")


async def test_a_secure_room_cannot_be_paired(bot: FakeBot):
    await bot.say("/room allow", user=bot.admin, room=MATRIX, room_name="Core")
    await bot.say("/room secure on", user=bot.admin, room=MATRIX)
    answer = await bot.say("/bridge pair", user=bot.admin, room=MATRIX)
    assert answer.startswith("This room is secure, and a secure room cannot be bridged")


async def pair(bot: FakeBot) -> None:
    code = await ask_code(bot, MATRIX)
    await bot.say(f"/bridge pair {code}", user=bot.admin, room=TELEGRAM, room_name="Caucus 2")


async def test_unpair_asks_first_then_stops_the_bridge_and_pairing_again_works(bot: FakeBot):
    await pair(bot)
    answer = await bot.say("/bridge unpair", user=bot.admin, room=TELEGRAM)
    assert answer == (f"Stop bridging Caucus 2? Messages between {TELEGRAM} and {MATRIX} will "
                      "no longer cross.\nTo confirm, send: /bridge unpair confirm")
    assert bot.dispatcher.rooms.partner(TELEGRAM) == MATRIX
    answer = await bot.say("/bridge unpair confirm", user=bot.admin, room=TELEGRAM)
    assert answer.startswith(f"Unpaired. Messages no longer cross between {TELEGRAM} and "
                             f"{MATRIX}.")
    assert bot.dispatcher.rooms.partner(TELEGRAM) is None
    assert (await bot.say("/whoami", room=TELEGRAM)).startswith("You: ")  # still allowed
    assert await bot.say("/bridge unpair", user=bot.admin, room=TELEGRAM) == \
        "This room is not bridged."
    code = await ask_code(bot, TELEGRAM)
    await bot.say(f"/bridge pair {code}", user=bot.admin, room=MATRIX)
    assert bot.dispatcher.rooms.partner(MATRIX) == TELEGRAM
    with bot.database.session() as db:
        actions = [e.action for e in reversed(audit.recent(db))]
    assert actions == ["bridge.code", "bridge.pair", "bridge.unpair", "bridge.code",
                       "bridge.pair"]


async def test_a_paired_room_must_be_unpaired_before_it_is_forgotten_or_secure(bot: FakeBot):
    await pair(bot)
    assert (await bot.say("/room forget", user=bot.admin, room=MATRIX)).startswith(
        "Caucus 2 is bridged: stop the bridge with /bridge unpair first")
    assert (await bot.say("/room secure on", user=bot.admin, room=MATRIX)).startswith(
        "Caucus 2 is bridged, and a bridged room cannot be secure")
    assert (await bot.say("/bridge pair", user=bot.admin, room=MATRIX)).startswith(
        "This room is bridged already")


async def test_status_lists_pairs_from_the_config_and_from_chat_with_their_origin(
        bot: FakeBot):
    await pair(bot)
    answer = await bot.say("/bridge status", user=bot.admin)
    assert "2 bridged pairs:" in answer
    assert "• Caucus (telegram:-5 ⇄ matrix:!ordinary:example.org) — from the config — " in answer
    assert (f"• Caucus 2 ({TELEGRAM} ⇄ {MATRIX}) — paired in chat by {bot.admin} on "
            "2026-11-23 — ") in answer
