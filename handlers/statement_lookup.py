"""Finding a statement by its id (``S3``) and saying when it closes."""

from __future__ import annotations

import re

from bot.commands import CommandError
from bot.context import Context
from handlers.when import closes_in, stamp
from storage.statements import Statement

ID_RULE = re.compile(r"[Ss]?([0-9]{1,9})")  # ASCII digits: "S٣" is not S3


def load_statement(ctx: Context, ref: str) -> Statement:
    match = ID_RULE.fullmatch(ref)
    if match is None:
        raise CommandError(f"'{ref}' is not a statement id; ids look like S3 "
                           f"({ctx.cmd('statements')} lists them).")
    statement = ctx.db.get(Statement, int(match.group(1)))
    if statement is None:
        raise CommandError(f"There is no statement S{match.group(1)}.")
    return statement


def deadline_words(ctx: Context, statement: Statement) -> str:
    if statement.deadline is None:
        return "no deadline"
    return f"{closes_in(statement.deadline, ctx.now, ctx.tz)} ({stamp(statement.deadline, ctx.tz)})"
