"""/bridge status: every pair, from the config and from chat alike, with where it came
from, whether it can work (what the adapters' set-up checks found) and whether its
traffic flows; and whether what the bridge keeps is encrypted at rest."""

from __future__ import annotations

from sqlmodel import col, func, select

from bot.arguments import Args
from bot.commands import Command, Role
from bot.config import RoomConfig
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from bot.rooms import PairCheck, check_pairs
from storage.crypto import UNENCRYPTED_WARNING, has_data_key
from storage.outbox import FAILED, PENDING, OutboxMessage
from storage.rooms import ChatRoom


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _origin(ctx: Context, room: RoomConfig) -> str:
    if not room.from_chat:
        return "from the config"
    row = ctx.db.get(ChatRoom, room.ids[0])
    if row is None or row.paired_at is None:
        return "paired in chat"
    return f"paired in chat by {row.paired_by} on {ctx.local(row.paired_at):%Y-%m-%d}"


def _can_work(found: PairCheck) -> tuple[bool, list[Line]]:
    """Whether the pair can work, in words: each problem as one line with what to do."""
    if found.problems:
        return False, [line("    ⚠ ", problem) for problem in found.problems]
    return True, [line("    can work: ", "; ".join(found.fine) if found.fine else
                       "not checked yet")]


def _traffic(ctx: Context, room: RoomConfig) -> tuple[bool, list[Line]]:
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
    waiting = f", oldest {_age((ctx.now - oldest).total_seconds())}" if oldest else ""
    lines = [line(f"    pending {pending}{waiting}; failed {failed}")]
    if last_error is not None:
        error, where = last_error
        lines.append(line("    last error: ", i(f"{where}: {(error or '')[:200]}")))
    return not pending and not failed, lines


async def bridge_status(ctx: Context, args: Args) -> Reply:
    pairs = ctx.rooms.pairs
    # What the bridge keeps of its messages is readable in a copy of the database.
    warning = [] if has_data_key() else [
        line(b("Warning: "), UNENCRYPTED_WARNING.replace("no data key: ", "", 1))]
    checks = check_pairs(pairs, ctx.setup, ctx.config)
    shown = {problem for check in checks for problem in check.problems}
    warning += [line(b("Set-up: "), f.problem) for f in ctx.setup
                if f.problem is not None and f.problem not in shown]
    singles = [r for r in ctx.rooms.all if r.from_chat and not r.bridged]
    allowed = [line(b("Allowed from chat: "), ", ".join(
        f"{r.name} ({r.ids[0]}{', secure' if r.secure else ''})" for r in singles))
               ] if singles else []
    if not pairs:
        return Reply((line("No bridged pairs: send /bridge pair in a room the bot is in (or "
                           "give a [[rooms]] entry both telegram_chat_id and matrix_room_id)."),
                      *allowed, *warning))
    lines: list[Line] = [line(b(f"{len(pairs)} bridged pair{'s' if len(pairs) != 1 else ''}:"))]
    for room, check in zip(pairs, checks, strict=True):
        flowing, traffic = _traffic(ctx, room)
        works, found = _can_work(check)
        state = "ok" if flowing and works else "attention"
        lines.append(item(b(room.name), f" ({' ⇄ '.join(room.ids)}) — {_origin(ctx, room)} — "
                          f"{state}"))
        lines += [*found, *traffic]
    return Reply((*lines, *allowed, *warning))


COMMANDS = [
    Command("bridge", bridge_status, "Bridged pairs: where from, whether they can work, "
            "pending and failed deliveries", sub="status", role=Role.ADMIN, read_only=True),
]
