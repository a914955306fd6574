from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from storage.models import AuditEntry, RoleGrant
from tests.harness import FakeBot, Network


async def test_admin_grants_and_revokes_secretariat(bot: FakeBot, net: Network):
    ana = net.user(2)
    await bot.send("hello", user=ana, name="Ana")  # the bot has seen her
    assert await bot.say(f"/role grant {ana} secretariat", user=bot.admin) == (
        f"Ana ({ana}) is now secretariat.")
    assert "role secretariat" in await bot.say("/whoami", user=ana)
    assert "/role" not in await bot.say("/help", user=ana)
    answer = await bot.say(f"/role revoke {ana}", user=bot.admin)
    assert answer.startswith(f"Ana ({ana}) is no longer secretariat")
    assert "role member" in await bot.say("/whoami", user=ana)


async def test_grant_by_display_name(bot: FakeBot, net: Network):
    await bot.send("hi", user=net.user(4), name="Bassel")
    assert await bot.say("/role grant Bassel secretariat", user=bot.admin) == (
        f"Bassel ({net.user(4)}) is now secretariat.")


async def test_grant_by_bare_matrix_id(bot: FakeBot):
    answer = await bot.say("/role grant @chen:example.org secretariat", user=bot.admin)
    assert answer == "matrix:@chen:example.org is now secretariat."


async def test_ambiguous_and_unknown_names(bot: FakeBot, net: Network):
    await bot.send("hi", user=net.user(5), name="Sam")
    await bot.send("hi", user=net.user(6), name="Sam")
    assert "could be any of" in await bot.say("/role grant Sam secretariat", user=bot.admin)
    assert "I have not seen anyone called 'Nobody'" in await bot.say(
        "/role grant Nobody secretariat", user=bot.admin)


async def test_admins_come_from_the_config_only(bot: FakeBot, net: Network):
    assert "named in the config file" in await bot.say(
        f"/role grant {net.user(2)} admin", user=bot.admin)
    assert "is an admin (from the config)" in await bot.say(
        f"/role grant {bot.admin} secretariat", user=bot.admin)
    assert "remove them there" in await bot.say(f"/role revoke {bot.admin}", user=bot.admin)


async def test_members_and_secretariat_cannot_grant(bot: FakeBot, net: Network):
    assert "needs the admin role" in await bot.say(f"/role grant {net.user(1)} secretariat")
    with bot.database.session() as db:
        assert db.exec(select(RoleGrant)).all() == []


async def test_grants_are_audited_with_who_what_when_where(bot: FakeBot, net: Network):
    await bot.send(f"/role grant {net.user(2)} secretariat", user=bot.admin)
    bot.advance(hours=1)
    await bot.send(f"/role revoke {net.user(2)}", user=bot.admin)
    with bot.database.session() as db:
        entries = db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.target, e.actor_id, e.room_id) for e in entries] == [
        ("role.grant", net.user(2), bot.admin, net.room),
        ("role.revoke", net.user(2), bot.admin, net.room),
    ]
    assert entries[1].at - entries[0].at == timedelta(hours=1)
    assert entries[0].at.tzinfo is not None
    log = await bot.say("/audit", user=bot.admin)
    assert log.startswith("Changes 1–2 of 2, newest first (Zurich time):")
    assert log.index("role.revoke") < log.index("role.grant")


async def test_granting_twice_is_not_a_change(bot: FakeBot, net: Network):
    await bot.send(f"/role grant {net.user(2)} secretariat", user=bot.admin)
    assert "already has the secretariat role" in await bot.say(
        f"/role grant {net.user(2)} secretariat", user=bot.admin)
    with bot.database.session() as db:
        assert len(db.exec(select(AuditEntry)).all()) == 1


async def test_revoke_without_grant(bot: FakeBot, net: Network):
    assert await bot.say(f"/role revoke {net.user(3)}", user=bot.admin) == (
        f"{net.user(3)} has no granted role to revoke.")


async def test_role_list(bot: FakeBot, net: Network):
    await bot.send(f"/role grant {net.user(2)} secretariat", user=bot.admin)
    answer = await bot.say("/role list", user=bot.admin)
    assert "telegram:1" in answer and "matrix:@admin:example.org" in answer
    assert f"{net.user(2)} — secretariat, by {bot.admin} on 2026-11-23" in answer


async def test_bad_role_usage(bot: FakeBot):
    answer = await bot.say("/role grant", user=bot.admin)
    assert answer.startswith("Missing <user>.\nUsage: /role grant <user> secretariat")
    answer = await bot.say("/role grant x wizard", user=bot.admin)
    assert "<role> must be one of: secretariat, admin (not 'wizard')" in answer
    answer = await bot.say("/role", user=bot.admin)
    assert answer.startswith("A sub-command is needed. One of:\n/role grant")


async def test_audit_details_only_in_private_places(bot: FakeBot, net: Network):
    await bot.send(f"/role grant {net.user(2)} secretariat", user=bot.admin)
    assert "— secretariat" not in await bot.say("/audit", user=bot.admin)
    assert "— secretariat" in await bot.say("/audit", user=bot.admin, room=net.secure_room)


async def test_audit_refuses_a_count_of_zero_and_pages(bot: FakeBot, net: Network):
    for n in range(3):
        await bot.send(f"/role grant {net.user(n + 2)} secretariat", user=bot.admin)
    assert (await bot.say("/audit last=0", user=bot.admin)).startswith(
        "last= must be a whole number from 1 to")
    assert await bot.say("/audit last=500", user=bot.admin) == (
        "last= must be a number from 1 to 100, not 500.")
    first = await bot.say("/audit last=2", user=bot.admin)
    assert first.startswith("Changes 1–2 of 3, newest first (Zurich time):")
    assert first.endswith("More: /audit last=2 page=2")
    second = await bot.say("/audit last=2 page=2", user=bot.admin)
    assert second.startswith("Change 3 of 3, newest first") and net.user(2) in second
    assert await bot.say("/audit page=3", user=bot.admin) == (
        "Page 3 does not exist; there is 1.")


async def test_audit_says_which_fields_and_values_changed(bot: FakeBot, net: Network):
    await bot.send("/statement new Letter", user=bot.admin)
    await bot.send("/statement edit S1 deadline=2026-12-01T12:00 session=HRC61", user=bot.admin)
    await bot.send("/flag Egypt | Lawyer arrested")
    await bot.send("/case un 1 body=hrc ref=A/HRC/57/60")
    await bot.send('/org set "Cairo Institute" | Egypt')
    with bot.database.session() as db:
        details = {e.action: e.detail for e in db.exec(select(AuditEntry))}
    assert details["statement.edit"] == "deadline → Tue 1 Dec 2026, 12:00; session → HRC61"
    assert details["case.un"] == "body, reference"
    assert details["org.set"] == "name, country"
