"""Table-driven: every case command, in an ordinary room, a secure room and a DM, as
member, secretariat and admin. A confidential case's country, summary, notes, names
and reporter must appear nowhere they should not, files included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import FakeBot, Network

# Strings that exist only in the confidential case.
SECRETS = ("Bahrain", "Zainab Qx", "Hassan Vy", "Rania Reporter", "Activist Kz", "Omar Ry",
           "#reprisal-un-secret")
READS = ["/case {n}", "/cases", "/cases Bahrain", "/cases new", "/cases #secret-tag",
         "/cases page=1", "/case export", "/case export new", "/case export reprisals 2027",
         "/cases search summoned", "/cases search lawyer", "/help case", "/help flag",
         "/help cases"]
WRITES = ["/case note {n} follow-up call", "/case status {n} verifying",
          "/case escalate {n} protection", "/case public {n} statement issued",
          "/case assign {n} me", "/case consent {n} share-un", "/case un {n} body=hrc",
          "/case pseudonym {n} Someone", "/case confidential {n} on"]
PLACES = ("ordinary", "secure", "dm")
ROLES = ("member", "secretariat", "admin")


@pytest.fixture
def world(tmp_path: Path, net: Network, database_url: str):  # type: ignore[no-untyped-def]
    bot = FakeBot(tmp_path, net, database_url=database_url)
    yield bot, {"reporter": net.user(3), "secretariat": net.user(2), "member": net.user(4)}
    bot.close()


async def setup_cases(bot: FakeBot, who: dict[str, str]) -> int:
    await bot.send("hello", user=who["reporter"], name="Rania Reporter")
    await bot.send("hello", user=who["member"], name="Mo Member")
    await bot.send(f"/role grant {who['secretariat']} secretariat", user=bot.admin)
    await bot.send("/flag Egypt | An open case about a lawyer #detention", user=who["member"])
    answer = await bot.say("/flag Bahrain | Zainab Qx summoned after side event "
                           "#secret-tag #reprisal-un", user=who["reporter"], dm=True)
    n = int(answer.split("#")[1].split()[0])
    dm = {"user": who["reporter"], "dm": True}
    for command in (f"/case note {n} Lawyer Hassan Vy called", f"/case pseudonym {n} Activist Kz",
                    f"/case details {n} Real name Omar Ry", f"/case consent {n} sg-report"):
        assert "#" in await bot.say(command, **dm)  # type: ignore[arg-type]
    return n


def where(bot: FakeBot, place: str, user: str) -> dict[str, object]:
    if place == "dm":
        return {"user": user, "dm": True}
    return {"user": user, "room": bot.net.room if place == "ordinary" else bot.net.secure_room}


async def everything_seen(bot: FakeBot, commands: list[str], n: int, **kw: object) -> str:
    seen = []
    for command in commands:
        reply = await bot.send(command.format(n=n), **kw)  # type: ignore[arg-type]
        if reply is None:
            continue
        seen.append(reply.plain())
        seen.append(reply.html(html_lists=True))
        if reply.file is not None:
            seen.append(reply.file.data.decode("utf-8-sig"))
    return "\n".join(seen)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("role", ROLES)
async def test_confidential_case_shows_only_to_secretariat_in_private(world, place: str,
                                                                      role: str):
    bot, who = world
    n = await setup_cases(bot, who)
    user = bot.admin if role == "admin" else who[role]
    seen = await everything_seen(bot, READS + WRITES, n, **where(bot, place, user))
    allowed = role in ("secretariat", "admin") and place != "ordinary"
    if allowed:
        # The positive control: the same commands do show it where they should.
        for secret in ("Bahrain", "Zainab Qx", "Hassan Vy", "Rania Reporter"):
            assert secret in seen, f"{secret} should show to {role} in {place}"
    else:
        leaked = [s for s in SECRETS if s in seen]
        assert leaked == [], f"{leaked} leaked to {role} in {place}"
        assert f"#{n} (confidential)" in seen or "confidential" in seen
    assert "An open case about a lawyer" in seen  # the open case stays visible to all


async def test_real_name_details_never_show_to_members_even_on_open_cases(world):
    bot, who = world
    await setup_cases(bot, who)
    await bot.send("/case details 1 Real name Omar Ry", user=who["member"], dm=True)
    seen = await everything_seen(bot, READS, 1, user=who["member"], dm=True)
    assert "Omar Ry" not in seen


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("role", ROLES)
async def test_filters_cannot_reveal_a_hidden_case(world, place: str, role: str):
    """`/cases Bahrain` answering "#2 (confidential)" would tell where #2 happened."""
    bot, who = world
    n = await setup_cases(bot, who)
    user = bot.admin if role == "admin" else who[role]
    allowed = role in ("secretariat", "admin") and place != "ordinary"
    for filters in ("Bahrain", "#secret-tag", "new Bahrain", "#reprisal-un"):
        answer = await bot.say(f"/cases {filters}", **where(bot, place, user))  # type: ignore[arg-type]
        assert (f"#{n}" in answer) == allowed, (filters, answer)
    unfiltered = await bot.say("/cases", **where(bot, place, user))  # type: ignore[arg-type]
    hidden = f"• #{n} (confidential)" in unfiltered.split("\n")
    assert hidden == (not allowed)
    assert (f"• #{n} (confidential) Bahrain" in unfiltered) == allowed


async def test_the_reporter_reads_her_own_confidential_case_in_a_dm_only(world):
    bot, who = world
    n = await setup_cases(bot, who)
    mine = await bot.say(f"/case {n}", user=who["reporter"], dm=True)
    assert "Zainab Qx summoned after side event" in mine and "Hassan Vy" in mine
    assert "Omar Ry" not in mine  # the real-name details stay with the secretariat
    in_room = await bot.say(f"/case {n}", user=who["reporter"])
    assert "Zainab" not in in_room and "is confidential" in in_room
    other = await bot.say(f"/case {n}", user=who["member"], dm=True)
    assert "Zainab" not in other


async def test_the_secretariat_list_marks_confidential_cases(world):
    bot, who = world
    n = await setup_cases(bot, who)
    listing = (await bot.say("/cases", user=who["secretariat"], dm=True)).split("\n")
    mine = next(ln for ln in listing if ln.startswith(f"• #{n} "))
    assert mine.startswith(f"• #{n} (confidential) Bahrain — new — Zainab Qx")
    open_case = next(ln for ln in listing if ln.startswith("• #1 "))
    assert "confidential" not in open_case
