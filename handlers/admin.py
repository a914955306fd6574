"""Roles and the audit trail: what admins use to run the bot for the coalition."""

from __future__ import annotations

from bot.arguments import Args, Option, Param
from bot.commands import Command, CommandError, Role
from bot.context import Context
from bot.replies import Line, Reply, code, i, item, line
from handlers.people import resolve_user
from handlers.when import zone_name
from storage import audit, roles

MAX_AUDIT_PAGE = 100


async def role_grant(ctx: Context, args: Args) -> Reply:
    role = args["role"]
    if role == Role.ADMIN:
        raise CommandError("Admins are named in the config file ([bot].admins), not by command.")
    user = resolve_user(ctx, args["user"])
    if user in ctx.config.bot.admins:
        raise CommandError(f"{user} is an admin (from the config); that includes {role.label}.")
    previous = roles.grant(ctx.db, user, role, by=ctx.caller.id, now=ctx.now)
    if previous is not None and previous.role == role.label:
        return Reply.text(f"{roles.describe(ctx.db, user)} already has the {role.label} role.")
    ctx.audit("role.grant", user, role.label)
    return Reply.text(f"{roles.describe(ctx.db, user)} is now {role.label}.")


async def role_revoke(ctx: Context, args: Args) -> Reply:
    user = resolve_user(ctx, args["user"])
    if user in ctx.config.bot.admins:
        raise CommandError(f"{user} is an admin from the config file; remove them there.")
    previous = roles.revoke(ctx.db, user)
    if previous is None:
        raise CommandError(f"{user} has no granted role to revoke.")
    ctx.audit("role.revoke", user, previous.role)
    return Reply.text(f"{roles.describe(ctx.db, user)} is no longer {previous.role}; they remain "
                      "a member wherever they are in an allowed room.")


async def role_list(ctx: Context, args: Args) -> Reply:
    lines: list[Line] = [line("Admins (from the config):")]
    lines += [item(code(a)) for a in ctx.config.bot.admins] or [item(i("none"))]
    lines.append(line("Granted roles:"))
    granted = roles.grants(ctx.db)
    lines += [item(roles.describe(ctx.db, g.user_id), f" — {g.role}, by {g.granted_by} on "
                   f"{ctx.local(g.granted_at):%Y-%m-%d}")
              for g in granted] or [item(i("none"))]
    return Reply(tuple(lines))


async def audit_log(ctx: Context, args: Args) -> Reply:
    size, page = args.opt("last", 20), args.opt("page", 1)
    if not 1 <= size <= MAX_AUDIT_PAGE:
        raise CommandError(f"last= must be a number from 1 to {MAX_AUDIT_PAGE}, not {size}.")
    count = audit.total(ctx.db)
    if count == 0:
        return Reply.text("The audit trail is empty.")
    pages = -(-count // size)
    if not 1 <= page <= pages:
        raise CommandError(f"Page {page} does not exist; there {'is' if pages == 1 else 'are'} "
                           f"{pages}.")
    entries = audit.recent(ctx.db, size, offset=(page - 1) * size)
    first, last = (page - 1) * size + 1, (page - 1) * size + len(entries)
    span = f"Change {first}" if first == last else f"Changes {first}–{last}"
    lines: list[Line] = [line(f"{span} of {count}, newest first ({zone_name(ctx.tz)}):")]
    for e in entries:
        detail = f" — {e.detail}" if e.detail and ctx.room.private else ""
        lines.append(item(f"{ctx.local(e.at):%Y-%m-%d %H:%M} ", code(e.action), f" {e.target} by ",
                          e.actor_id, f" in {e.room_id}{detail}"))
    if page < pages:
        lines.append(line(i(f"More: {ctx.cmd('audit')} last={size} page={page + 1}")))
    return Reply(tuple(lines))


COMMANDS = [
    Command("role", role_grant, "Grant a role (secretariat) to a person", sub="grant",
            params=(Param("user"), Param("role", choices=("secretariat", "admin"),
                                         parse=lambda word: Role[word.upper()])),
            usage_text="<user> secretariat",
            role=Role.ADMIN, example="/role grant matrix:@ana:example.org secretariat",
            details="<user> is an id (telegram:123, matrix:@a:server) or the exact name of "
                    "someone the bot has seen."),
    Command("role", role_revoke, "Take a granted role back", sub="revoke",
            params=(Param("user"),), role=Role.ADMIN, example="/role revoke telegram:123456"),
    Command("role", role_list, "List admins and granted roles", sub="list", role=Role.ADMIN,
            read_only=True),
    Command("audit", audit_log, "Show the latest changes to shared records",
            options=(Option("last", "N", kind="int"), Option("page", "N", kind="int")),
            role=Role.ADMIN, example="/audit last=50 page=2",
            read_only=True,
            details="last=N entries a page (1 to 100, default 20). Details are shown only in "
                    "a direct message or a secure room."),
]
