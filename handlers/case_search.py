"""Finding cases by words: ``/cases search lawyer airport``.

The search runs in Python over the cases the caller may read, never in SQL: the
summaries and notes are encrypted at rest, and a match on a case the caller may
not read would tell what it says. Where a confidential case may not be read, it
is left out altogether, not shown as ``#N (confidential)``.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.context import Context
from handlers.case_access import may_see
from handlers.countries import name_of
from storage.cases import Case, tags_of, timeline


def searchable_text(ctx: Context, case: Case) -> str:
    """What a reader of the case sees of it: summary, country, tags, pseudonym, notes;
    never the confidential details (real names), which only show to the secretariat."""
    notes = [e.text for e in timeline(ctx.db, case.key) if e.kind in ("note", "public")]
    return " ".join([case.summary, name_of(case.country), case.country,
                     *tags_of(ctx.db, case.key), case.pseudonym or "", *notes]).casefold()


def matching_cases(ctx: Context, words: list[str]) -> list[Case]:
    """Newest first, the cases the caller may read whose text holds every word."""
    wanted = [w.casefold() for w in words]
    readable = (c for c in ctx.db.exec(select(Case).order_by(col(Case.id).desc()))
                if may_see(ctx, c))
    return [c for c in readable if all(w in searchable_text(ctx, c) for w in wanted)]
