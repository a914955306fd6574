"""Pairing from chat: ``/bridge pair`` with a one-time code, ``/bridge unpair``.

An admin types ``/bridge pair`` in a room the bot is in and gets a code (10
minutes, once); an admin types ``/bridge pair <code>`` in a room on the other
network, and the two are a bridged pair at once: the rooms are read again after
the command commits (``bot.rooms``), so no id is copied and nothing restarts. Only
the code's hash is stored. A pair from the config is changed only in the config.
"""

from __future__ import annotations

from bot.arguments import Args, Param
from bot.commands import Command, CommandError, Role
from bot.config import RoomConfig
from bot.context import Context
from bot.replies import Reply, b, code, line
from handlers.reminder_plan import rescheduled
from handlers.room_setup import settable
from storage import rooms as chat
from storage.ids import platform_of

MINUTES = int(chat.PAIRING_CODE_LIFETIME.total_seconds() // 60)
KIND = {"telegram": "Telegram group", "matrix": "Matrix room"}
OTHER = {"telegram": "matrix", "matrix": "telegram"}


def _pairable(ctx: Context, room: RoomConfig | None, *, here: bool) -> None:
    """A room from chat that may take a partner: not bridged yet, and not secure."""
    if room is None:
        return
    where = "This room" if here else f"The room that made the code ({room.name})"
    if room.bridged:
        raise CommandError(f"{where} is bridged already: {ctx.cmd('bridge unpair')} there "
                           "first, then pair again.")
    if room.secure:
        raise CommandError(f"{where} is secure, and a secure room cannot be bridged: what is "
                           "shown there would reach the other network. "
                           f"{ctx.cmd('room secure off')} there first.")


async def bridge_pair(ctx: Context, args: Args) -> Reply:
    here = settable(ctx, "bridge pair")
    _pairable(ctx, here, here=True)
    typed = args.get("code")
    other = KIND[OTHER[ctx.room.platform]]
    if typed is None:
        made = chat.issue_pairing_code(ctx.db, ctx.room.id, ctx.room.name, by=ctx.caller.id,
                                       now=ctx.now)
        ctx.audit("bridge.code", ctx.room.id)
        prefix = "!" if OTHER[ctx.room.platform] == "matrix" else "/"
        return Reply.of(
            line(b("Pairing code: "), code(made), f" (valid {MINUTES} minutes, once)."),
            line(f"In the {other} to bridge with this one, an admin sends: ",
                 code(f"{prefix}bridge pair {made}")))
    check = chat.spend_pairing_code(ctx.db, typed, now=ctx.now)
    again = f"Ask for a new one with {ctx.cmd('bridge pair')} in the room to pair with."
    if check.state == "unknown":
        raise CommandError(f"That pairing code is not valid: mistyped, or used already (a code "
                           f"works once). {again}")
    if check.state == "expired":
        raise CommandError(f"That pairing code has expired: a code works for {MINUTES} "
                           f"minutes. {again}")
    if check.room_id == ctx.room.id:
        raise CommandError(f"That code was made in this room: send it in the {other} to "
                           "bridge with.")
    if platform_of(check.room_id) == ctx.room.platform:
        raise CommandError(f"That code was made in another {KIND[ctx.room.platform]}: a pair "
                           "is one Telegram group and one Matrix room.")
    first = ctx.rooms.room_for(check.room_id)
    if first is not None and not first.from_chat:
        raise CommandError(f"The room that made the code ({first.name}) is in the config file "
                           f"({ctx.config.source}): pair it there.")
    _pairable(ctx, first, here=False)
    first_name = first.name if first is not None else check.room_name
    chat.pair(ctx.db, (check.room_id, first_name), (ctx.room.id, ctx.room.name),
              by=ctx.caller.id, now=ctx.now)
    ctx.audit("bridge.pair", f"{check.room_id} ⇄ {ctx.room.id}",
              f"code from {check.requested_by}")
    ctx.changes.add("rooms")
    rescheduled(ctx)  # both sides get the reminders
    stop = "{}bridge unpair stops it."
    ctx.notify(check.room_id, Reply.of(
        line(b(f"Bridged with the {KIND[ctx.room.platform]} {ctx.room.name}."),
             " Messages now cross both ways. ",
             stop.format("!" if platform_of(check.room_id) == "matrix" else "/"))))
    return Reply.of(line(b(f"Bridged with the {other} {first_name}."),
                         " Messages now cross both ways. ", stop.format(ctx.prefix)))


async def bridge_unpair(ctx: Context, args: Args) -> Reply:
    room = ctx.rooms.room_for(ctx.room.id)
    if room is None or not room.bridged:
        raise CommandError("This room is not bridged.")
    if not room.from_chat:
        raise CommandError(f"The pair {room.name} is in the config file ({ctx.config.source}): "
                           "remove telegram_chat_id or matrix_room_id from its [[rooms]] entry "
                           "there, then restart the bot.")
    a, z = room.ids
    if args.get("confirm") is None:
        return Reply.of(line(b(f"Stop bridging {room.name}?"), f" Messages between {a} and {z}"
                             " will no longer cross."),
                        f"To confirm, send: {ctx.cmd('bridge unpair confirm')}")
    chat.unpair(ctx.db, ctx.room.id)
    ctx.audit("bridge.unpair", f"{a} ⇄ {z}", room.name)
    ctx.changes.add("rooms")
    return Reply.of(line(b("Unpaired."), f" Messages no longer cross between {a} and {z}."),
                    f"Both rooms stay allowed for commands and reminders "
                    f"({ctx.cmd('room forget')} in each stops that); {ctx.cmd('bridge pair')} "
                    "pairs again.")


COMMANDS = [
    Command("bridge", bridge_pair, "Bridge this room with one on the other network, by a code",
            sub="pair", params=(Param("code", optional=True),), role=Role.ADMIN, setup=True,
            example="/bridge pair",
            details=f"In a Matrix room (or Telegram group) the bot is in, an admin sends /bridge "
                    f"pair and gets a code, valid {MINUTES} minutes, once. An admin sends "
                    "/bridge pair <code> in the Telegram group (or Matrix room) to pair with: "
                    "messages cross at once. Rooms from the config are paired in the config."),
    Command("bridge", bridge_unpair, "Stop bridging this room (asks to confirm)", sub="unpair",
            params=(Param("confirm", optional=True, choices=("confirm",)),), role=Role.ADMIN,
            example="/bridge unpair confirm",
            details="On either side of a pair made in chat; both rooms stay allowed."),
]
