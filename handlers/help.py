"""/help, /start and /whoami: generated from the registry, filtered by the caller's role."""

from __future__ import annotations

from bot.arguments import Args, Param
from bot.commands import Command, Role, UsageError
from bot.context import Context
from bot.dispatcher import permitted
from bot.replies import Line, Reply, b, code, i, item, line


async def help_command(ctx: Context, args: Args) -> Reply:
    topic = args.get("command")
    if topic:
        return _help_topic(ctx, topic.lstrip("/!").lower())
    lines: list[Line] = [line(b("Commands you can use here"), f" (you are {_a(ctx.caller.role)}):")]
    for name in ctx.registry.names():
        group = [c for c in ctx.registry.group(name) if permitted(c, ctx.caller.role)]
        if not group:
            continue
        base = group[0] if group[0].sub is None else None
        subs = ", ".join(c.sub for c in group if c.sub is not None)
        more = f" — {ctx.prefix}help {name}"
        if base is None:
            lines.append(item(code(f"{ctx.prefix}{name} {subs.replace(', ', '|')}"), more))
            continue
        lines.append(item(code(base.usage(ctx.prefix)), f" — {base.help}"))
        if subs:
            lines.append(line(f"    also: {subs}{more}"))
    prefixes = " or ".join(ctx.config.bot.command_prefixes)
    lines.append(line(i(f"{ctx.prefix}help <command> shows the details. Commands start with "
                        f"{prefixes}.")))
    return Reply(tuple(lines))


def _help_topic(ctx: Context, name: str) -> Reply:
    group = ctx.registry.group(name)
    if not group:
        guess = ctx.registry.suggest(name)
        hint = f" (did you mean {ctx.prefix}{guess}?)" if guess else ""
        raise UsageError(f"There is no command {ctx.prefix}{name}{hint}. "
                         f"{ctx.prefix}help lists them all.")
    allowed = [c for c in group if permitted(c, ctx.caller.role)]
    if not allowed:
        need = min(c.role for c in group)
        raise UsageError(f"{ctx.prefix}{name} needs the {need.label} role; "
                         f"you are {_a(ctx.caller.role)}.")
    lines: list[Line] = []
    for cmd in allowed:
        lines.append(line(b(cmd.usage(ctx.prefix))))
        lines.append(line("  ", cmd.help))
        if cmd.details:
            lines.extend(line("  ", text) for text in cmd.details.split("\n"))
        if cmd.example:
            lines.append(line("  Example: ", code(cmd.example.replace("/", ctx.prefix, 1))))
        if cmd.role > Role.MEMBER:
            lines.append(line("  ", i(f"Needs the {cmd.role.label} role.")))
    return Reply(tuple(lines))


async def start(ctx: Context, args: Args) -> Reply:
    name = ctx.config.bot.display_name
    intro = (f"{name} helps the coalition flag cases of threats and reprisals against human "
             "rights defenders, collect sign-ons for joint statements, and keep the HRC "
             "calendar.")
    if ctx.caller.role == Role.GUEST:
        return Reply.of(intro, f"You are not yet a member of a room that {name} serves. Ask "
                        "the coalition's secretariat to add you to one of its rooms; then "
                        f"{ctx.prefix}help works here too.")
    return Reply.of(intro, line("You are ", _a(ctx.caller.role), f". Send {ctx.prefix}help for "
                                "the commands you can use."))


async def whoami(ctx: Context, args: Args) -> Reply:
    room = ctx.room
    where = "a direct message" if room.is_direct else f"room {room.name}"
    kind = "secure" if room.secure else ("private" if room.is_direct else "not secure")
    return Reply.of(
        line("You: ", b(ctx.caller.name or ctx.caller.id), " — id ", code(ctx.caller.id),
             ", role ", ctx.caller.role.label),
        line("Here: ", where, " — id ", code(room.id), f" ({kind})"),
        line(i("Use these ids in the config (admins, rooms) and in "
               f"{ctx.prefix}role grant.")),
    )


def _a(role: Role) -> str:
    return f"an {role.label}" if role == Role.ADMIN else f"a {role.label}"


COMMANDS = [
    Command("help", help_command, "List the commands you can use, or explain one",
            params=(Param("command", optional=True),), role=Role.GUEST, example="/help role",
            read_only=True),
    Command("start", start, "What this bot does and how to begin", role=Role.GUEST,
            read_only=True),
    Command("whoami", whoami, "Show your id, your role and this room's id", role=Role.GUEST,
            read_only=True),
]
