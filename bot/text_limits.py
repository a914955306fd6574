"""Every text column's declared length, checked before a row is stored.

SQLite ignores ``VARCHAR(n)``, so an overlong value was stored there and then failed
on PostgreSQL (or was cut short by hand, silently). A flush now checks the string
columns of each new or changed row against their declared length and refuses with a
``CommandError`` that gives the limit, so the command's transaction is rolled back
and nothing is stored, on every database. Imported by ``bot.context``, which every
command goes through; the listener is on SQLAlchemy's ``Session`` class.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.commands import CommandError

# What the user typed, in their words; other columns are named "<table> <column>".
FIELD_WORDS = {
    "hrc_session.title": "session title",
    "hrc_session.place": "place",
    "deadline.label": "deadline label",
    "statement.title": "title",
    "statement.url": "link",
    "signature.org_name": "organisation's name",
    "orgprofile.org_name": "organisation's name",
    "case.pseudonym": "pseudonym",
    "case.un_reference": "UN reference",
    "casetag.tag": "tag",
}


# Labels a network hands us (a display name, and "added by <name>" notes), not records
# typed here: cut to fit rather than refused, or a long display name (Matrix allows
# thousands of characters) would stop its owner from using the bot at all.
CUT_TO_FIT = {"identity.display_name", "reminder.created_by", "hrc_session.source",
              "deadline.source"}


def too_long(row: Any) -> str | None:
    """The refusal for the first string column of ``row`` over its length, if any.

    Columns in ``CUT_TO_FIT`` are cut to their length instead.
    """
    table = getattr(row, "__table__", None)
    if table is None:
        return None
    for column in table.columns:
        limit = getattr(column.type, "length", None)
        value = getattr(row, column.key, None)
        if limit and isinstance(value, str) and len(value) > limit:
            if f"{table.name}.{column.key}" in CUT_TO_FIT:
                setattr(row, column.key, value[:limit])
                continue
            what = FIELD_WORDS.get(f"{table.name}.{column.key}",
                                   f"{table.name} {column.key}".replace("_", " "))
            return f"The {what} is {len(value):,} characters; the limit is {limit:,}."
    return None


@event.listens_for(Session, "before_flush")
def _refuse_overlong(session: Session, flush_context: object, instances: object) -> None:
    for row in (*session.new, *session.dirty):
        problem = too_long(row)
        if problem is not None:
            raise CommandError(problem)
