"""Records that chat names by a letter and a number: statements (S3), recommendations (R12).

One reading of such an id, so that each kind refuses a typo the same way: ASCII digits
only ("S٣" is not S3), the letter optional, a clear answer when the record is missing.
"""

from __future__ import annotations

import re
from typing import TypeVar

from sqlmodel import SQLModel

from bot.commands import CommandError
from bot.context import Context

Record = TypeVar("Record", bound=SQLModel)


def load_numbered(ctx: Context, model: type[Record], ref: str, *, letter: str, noun: str,
                  example: str, listing: str) -> Record:
    """The record ``ref`` names (``S3``, ``s3`` or ``3`` for letter ``S``)."""
    match = re.fullmatch(rf"[{letter.upper()}{letter.lower()}]?([0-9]{{1,9}})", ref.strip())
    if match is None:
        raise CommandError(f"'{ref}' is not a {noun} id; ids look like {example} "
                           f"({ctx.cmd(listing)} lists them).")
    record = ctx.db.get(model, int(match.group(1)))
    if record is None:
        raise CommandError(f"There is no {noun} {letter}{match.group(1)}.")
    return record
