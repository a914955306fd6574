"""Naming people in commands: ids, Matrix ids, or the name of someone the bot has seen."""

from __future__ import annotations

from bot.commands import CommandError
from bot.config import USER_ID
from bot.context import Context
from storage import roles
from storage.ids import user_id_for


def resolve_user(ctx: Context, who: str) -> str:
    """A canonical user id; ``me`` is the caller. Ambiguous or unknown names are refused."""
    if who.lower() == "me":
        return ctx.caller.id
    if USER_ID.fullmatch(who):
        return who
    if who.startswith("@") and ":" in who:
        return user_id_for("matrix", who)
    matches = roles.find_identities(ctx.db, who)
    if len(matches) == 1:
        return matches[0].id
    if matches:
        ids = ", ".join(m.id for m in matches)
        raise CommandError(f"'{who}' could be any of: {ids}. Use the id.")
    raise CommandError(f"I have not seen anyone called '{who}'. Use their id: they can send "
                       f"{ctx.prefix}whoami (e.g. telegram:123456 or matrix:@name:server).")
