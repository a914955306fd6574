"""``/delete``: remove a bridged message from both sides.

Telegram tells bots nothing of deletions, so a message deleted there stays on
Matrix; a name typed by mistake must go from both rooms. An admin replies
``/delete`` to the message on either side: the bot deletes it there and its
counterpart on the other side (its copy, or the original it was copied from),
then its own ``/delete`` message where it may. The command itself never crosses.
"""

from __future__ import annotations

from bot import deliveries
from bot.arguments import Args
from bot.commands import Command, Private, Role, UsageError
from bot.context import Context
from bot.replies import Reply
from storage import links


async def delete(ctx: Context, args: Args) -> Reply:
    target = ctx.replying_to
    if target is None:
        raise UsageError(f"Reply {ctx.cmd('delete')} to the message to delete: it goes from "
                         "this room and from the bridged one.")
    room = ctx.rooms.room_for(ctx.room.id)
    partner = next((r for r in room.ids if r != ctx.room.id), None) \
        if room is not None and room.bridged else None
    counterpart = links.counterpart(ctx.db, ctx.room.id, target, partner) if partner else None
    deliveries.queue(ctx.db, ctx.room.id, deliveries.Delete(), now=ctx.now, reply_to=target)
    if partner is not None and counterpart is not None:
        deliveries.queue(ctx.db, partner, deliveries.Delete(), now=ctx.now,
                         reply_to=counterpart)
    ctx.changes.add("outbox")
    ctx.remove_command = True
    ctx.audit("message.delete", ctx.room.id, "and its copy" if counterpart else "")
    if partner is None:
        return Reply.text("Deleting that message here (this room is not bridged).")
    if counterpart is None:
        return Reply.text("Deleting that message here; the bot knows no copy of it in the "
                          "bridged room (it never crossed, or is older than the "
                          f"{ctx.config.privacy.link_retention_days} days the bot keeps track "
                          "of copies): delete that one by hand if there is one.")
    return Reply.text("Deleting that message here and its copy in the bridged room.")


COMMANDS = [
    Command("delete", delete, "Reply to a bridged message to delete it on both sides",
            role=Role.ADMIN, private=Private(always=True, advise=False),
            details="Telegram tells bots nothing of deletions, so a message deleted there "
                    "stays on Matrix: reply /delete to it (or to its copy) on either side. "
                    "The bot needs the right to delete others' messages (Telegram admin with "
                    "Delete messages; Matrix power to redact)."),
]
