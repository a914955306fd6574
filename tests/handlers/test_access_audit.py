"""Reading confidential content and exporting records leave a trace in the audit trail:
who, what record, when, where; never the content itself."""

from __future__ import annotations

from sqlmodel import select

from storage.models import AuditEntry
from tests.harness import FakeBot, Network

SECRETS = ("Bahrain", "Zainab", "Omar Ry", "Hassan")


def trail(bot: FakeBot, *actions: str) -> list[AuditEntry]:
    with bot.database.session() as db:
        rows = db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    return [e for e in rows if e.action in actions]


async def two_cases(bot: FakeBot, net: Network) -> tuple[str, int, int]:
    """A confidential case and an open one with confidential details; and a secretariat."""
    sec = net.user(2)
    await bot.send(f"/role grant {sec} secretariat", user=bot.admin)
    await bot.send("hello", user=net.user(3))
    hidden = await bot.say("/flag Bahrain | Zainab summoned", user=net.user(3), dm=True)
    n = int(hidden.split("#")[1].split()[0])
    await bot.send(f"/case note {n} Hassan called", user=net.user(3), dm=True)
    opened = await bot.say("/flag Egypt | An open case", user=net.user(3))
    m = int(opened.split("#")[1].split()[0])
    await bot.send(f"/case details {m} Real name Omar Ry", user=net.user(3), dm=True)
    return sec, n, m


async def test_showing_confidential_content_is_audited_without_it(bot: FakeBot, net: Network):
    sec, n, m = await two_cases(bot, net)
    assert "Zainab" in await bot.say(f"/case {n}", user=sec, dm=True)
    assert "Omar Ry" in await bot.say(f"/case {m}", user=sec, room=net.secure_room)
    views = trail(bot, "case.view")
    assert [(e.target, e.actor_id, e.room_id) for e in views] == [
        (f"#{n}", sec, net.dm(sec)), (f"#{m}", sec, net.secure_room)]
    assert all(e.detail == "" for e in views)


async def test_nothing_confidential_shown_nothing_audited(bot: FakeBot, net: Network):
    sec, n, m = await two_cases(bot, net)
    assert "confidential" in await bot.say(f"/case {n}", user=sec)  # refused here
    assert "Omar Ry" not in await bot.say(f"/case {m}", user=sec)  # details withheld here
    assert "Omar Ry" not in await bot.say(f"/case {m}", user=net.user(4), dm=True)
    assert trail(bot, "case.view") == []


async def test_exports_are_audited_without_content(bot: FakeBot, net: Network):
    sec, _n, _m = await two_cases(bot, net)
    await bot.send("/statement new Letter deadline=2026-12-01", user=sec)
    await bot.send('/signon S1 "Gulf Centre" | Lebanon')
    for command in ("/case export", "/case export reprisals 2027", "/statement export S1",
                    "/statement export S1 text"):
        reply = await bot.send(command, user=sec, dm=True)
        assert reply is not None and reply.file is not None, command
    exports = trail(bot, "case.export", "statement.export")
    assert [(e.action, e.target) for e in exports] == [
        ("case.export", "all"), ("case.export", "reprisals 2027"),
        ("statement.export", "S1"), ("statement.export", "S1")]
    assert all(e.actor_id == sec for e in exports)
    written = " ".join(f"{e.target} {e.detail}" for e in trail(bot, "case.export",
                                                                "statement.export",
                                                                "case.view"))
    assert not any(secret in written for secret in SECRETS)
