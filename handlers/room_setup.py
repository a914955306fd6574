"""Rooms set up from chat: ``/room allow``, ``/room secure on|off``, ``/room forget``.

An admin allows a room from inside it, so that no id has to be copied into the
config and the bot needs no restart: the room is a row in ``storage.rooms``, read
with the config's rooms by ``bot.rooms``. The config stays the source of admins and
secrets, and of its own rooms: those are changed only in the config, and the
answer says so. Every change is in the audit trail.
"""

from __future__ import annotations

from bot.arguments import Args, Param
from bot.commands import Command, CommandError, Role
from bot.config import RoomConfig
from bot.context import Context
from bot.replies import Reply, b, line
from handlers.reminder_plan import rescheduled
from storage import rooms as chat


def settable(ctx: Context, command: str) -> RoomConfig | None:
    """This room as chat may change it: a group or room, not the config's. Returns its
    entry when it was set up from chat before, None when it is new to the bot."""
    if ctx.room.is_direct:
        raise CommandError(f"{ctx.cmd(command)} is sent in the group or room itself, not in a "
                           "direct message.")
    if ctx.room.platform not in ("telegram", "matrix"):
        raise CommandError("Only Telegram groups and Matrix rooms are set up from chat.")
    room = ctx.rooms.room_for(ctx.room.id)
    if room is not None and not room.from_chat:
        raise CommandError(f"{room.name} is in the config file ({ctx.config.source}): a room "
                           "from the config is changed only there, then the bot restarted.")
    return room


def _chat_room(ctx: Context, command: str) -> RoomConfig:
    room = settable(ctx, command)
    if room is None:
        raise CommandError(f"This room is not allowed yet: {ctx.cmd('room allow')} first.")
    return room


async def room_allow(ctx: Context, args: Args) -> Reply:
    if settable(ctx, "room allow") is not None:
        raise CommandError(f"{ctx.room.name} is allowed already.")
    name = args.get("name") or ctx.room.name
    chat.allow(ctx.db, ctx.room.id, name, by=ctx.caller.id, now=ctx.now)
    ctx.audit("room.allow", ctx.room.id, name)
    ctx.changes.add("rooms")
    rescheduled(ctx)  # the room gets the session and deadline reminders
    return Reply.of(
        line(b(f"{name} is allowed."), f" Members here can use my commands ({ctx.cmd('help')}),"
             f" and the room gets session and deadline reminders ({ctx.cmd('reminders off')} "
             "stops them)."),
        f"{ctx.cmd('room secure on')} lets confidential details show here; "
        f"{ctx.cmd('bridge pair')} bridges this room with one on the other network.")


async def room_secure(ctx: Context, args: Args) -> Reply:
    room = _chat_room(ctx, "room secure")
    on = args["state"] == "on"
    if on and room.bridged:
        raise CommandError(f"{room.name} is bridged, and a bridged room cannot be secure: what "
                           "is shown here would reach the other network. Stop the bridge with "
                           f"{ctx.cmd('bridge unpair')} first.")
    if room.secure == on:
        return Reply.text(f"{ctx.room.name} is {'secure' if on else 'not secure'} already.")
    chat.set_secure(ctx.db, ctx.room.id, on)
    ctx.audit("room.secure", ctx.room.id, args["state"])
    ctx.changes.add("rooms")
    if on:
        return Reply.text(f"{ctx.room.name} is secure: confidential case details may be shown "
                          "here to the secretariat and admins. Keep its members to those who "
                          "may read them.")
    return Reply.text(f"{ctx.room.name} is no longer secure: confidential details stay out of "
                      "it.")


async def room_forget(ctx: Context, args: Args) -> Reply:
    room = _chat_room(ctx, "room forget")
    if room.bridged:
        raise CommandError(f"{room.name} is bridged: stop the bridge with "
                           f"{ctx.cmd('bridge unpair')} first, then forget the room.")
    chat.forget(ctx.db, ctx.room.id)
    ctx.audit("room.forget", ctx.room.id, room.name)
    ctx.changes.add("rooms")
    rescheduled(ctx)
    return Reply.text(f"Forgotten: I no longer act in {room.name} (what was recorded here "
                      f"stays). Remove me from the room if I should leave it; "
                      f"{ctx.cmd('room allow')} takes it back.")


COMMANDS = [
    Command("room", room_allow, "Let the bot work in this room (commands, reminders)",
            sub="allow", params=(Param("name", kind="text", optional=True),), role=Role.ADMIN,
            setup=True, example="/room allow Geneva caucus",
            details="Sent in the group or room itself, by an admin of the config. The name "
                    "(the room's own by default) is how /bridge status and reminders call it. "
                    "Rooms in the config file are changed only there."),
    Command("room", room_secure, "Let confidential details show in this room, or not",
            sub="secure", params=(Param("state", choices=("on", "off")),), role=Role.ADMIN,
            example="/room secure on",
            details="Only for a room allowed from chat, and not bridged: what a secure room "
                    "shows must not reach the other network."),
    Command("room", room_forget, "Stop the bot working in this room", sub="forget",
            role=Role.ADMIN,
            details="Only for a room allowed from chat; a bridged one is unpaired first."),
]
