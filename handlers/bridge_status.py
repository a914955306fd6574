"""/bridge status: is every paired room's traffic flowing, and if not, why; and whether
what it keeps is encrypted at rest."""

from __future__ import annotations

from sqlmodel import col, func, select

from bot.arguments import Args
from bot.commands import Command, Role
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from storage.crypto import UNENCRYPTED_WARNING, has_data_key
from storage.outbox import FAILED, PENDING, OutboxMessage


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


async def bridge_status(ctx: Context, args: Args) -> Reply:
    pairs = [r for r in ctx.config.rooms if r.bridged]
    # What the bridge keeps of its messages is readable in a copy of the database.
    warning = [] if has_data_key() else [
        line(b("Warning: "), UNENCRYPTED_WARNING.replace("no data key: ", "", 1))]
    warning += [line(b("Set-up: "), problem) for problem in ctx.setup_problems]
    if not pairs:
        return Reply((line("No bridged pairs: a [[rooms]] entry with both telegram_chat_id and "
                           "matrix_room_id makes one."), *warning))
    lines: list[Line] = [line(b(f"{len(pairs)} bridged pair{'s' if len(pairs) != 1 else ''}:"))]
    for room in pairs:
        ids = list(room.ids)
        pending, oldest = ctx.db.exec(
            select(func.count(), func.min(OutboxMessage.created_at))
            .where(col(OutboxMessage.room_id).in_(ids))
            .where(OutboxMessage.status == PENDING)).one()
        failed = ctx.db.exec(select(func.count()).where(col(OutboxMessage.room_id).in_(ids))
                             .where(OutboxMessage.status == FAILED)).one()
        last_error = ctx.db.exec(
            select(OutboxMessage.last_error, OutboxMessage.room_id)
            .where(col(OutboxMessage.room_id).in_(ids))
            .where(col(OutboxMessage.last_error).is_not(None))
            .order_by(col(OutboxMessage.id).desc()).limit(1)).first()
        state = "ok" if not pending and not failed else "attention"
        lines.append(item(b(room.name), f" ({' ⇄ '.join(ids)}) — {state}"))
        waiting = f", oldest {_age((ctx.now - oldest).total_seconds())}" if oldest else ""
        lines.append(line(f"    pending {pending}{waiting}; failed {failed}"))
        if last_error is not None:
            error, where = last_error
            lines.append(line("    last error: ", i(f"{where}: {(error or '')[:200]}")))
    return Reply((*lines, *warning))


COMMANDS = [
    Command("bridge", bridge_status, "Bridged pairs: pending and failed deliveries, last error",
            sub="status", role=Role.ADMIN, read_only=True),
]
