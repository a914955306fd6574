"""Finding a statement by its id (``S3``) and saying when it closes."""

from __future__ import annotations

from datetime import datetime

from bot.arguments import Param
from bot.context import Context
from handlers.numbered import load_numbered
from handlers.when import closes_in, stamp, zoned_stamp
from storage.statements import Statement


def load_statement(ctx: Context, ref: str) -> Statement:
    return load_numbered(ctx, Statement, ref, letter="S", noun="statement", example="S3",
                         listing="statements")


def sign_ons_closed(statement: Statement, now: datetime) -> bool:
    """Closed by the secretariat, or past its deadline: either way nobody signs any more."""
    return statement.closed_for_sign_ons(now)


def deadline_words(ctx: Context, statement: Statement, *, zone: bool = False) -> str:
    """"closes in 3 days (Thu 26 Nov 2026, 23:59)", or how it closed; ``zone`` adds
    "Zurich time" where the answer stands alone and readers may be elsewhere."""
    if statement.deadline is None:
        return "no deadline" if statement.status == "open" else "closed for sign-ons"
    when = (zoned_stamp if zone else stamp)(statement.deadline, ctx.tz)
    if statement.deadline <= ctx.now:
        return f"closed on {when}"
    if statement.status != "open":
        return f"closed for sign-ons (the deadline was to be {when})"
    return f"{closes_in(statement.deadline, ctx.now, ctx.tz)} ({when})"


STATEMENT_ID = Param("id")  # S3, s3 or 3: load_statement reads it
