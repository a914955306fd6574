"""How a recommendation reads in chat: one line in a list, the whole card, its lines on a case.

Linked cases are shown by the case's own rule (``handlers.case_access.may_see``):
where a reader may not see a confidential case, it is left out altogether, since
even its number beside a State's recommendation would tell its country.
"""

from __future__ import annotations

from bot.context import Context
from bot.replies import Inline, Line, Reply, b, i, item, line
from handlers.case_access import may_see
from handlers.countries import parse_country
from handlers.numbered import load_numbered
from handlers.rec_calendar import upr_dates
from storage import roles
from storage.cases import Case
from storage.countries import name_of
from storage.recommendations import (
    STATUSES,
    RecAssessment,
    Recommendation,
    assessments,
    latest_by_organisation,
    linked_cases,
    linked_statements,
    recommendations_of_case,
)

SOURCE_NAMES = {"upr": "UPR", "treaty-body": "treaty body", "special-procedure":
                "special procedure"}


def read_filters(words: list[str]) -> tuple[str | None, str | None, str | None, list[str]]:
    """(country, status, theme, other words) from the words of /recs."""
    status = theme = None
    rest: list[str] = []
    for word in words:
        if word.lower() in STATUSES:
            status = word.lower()
        elif word.startswith("#") and len(word) > 1:
            theme = word[1:].replace("-", " ").lower()
        else:
            rest.append(word)
    country = parse_country(" ".join(rest)).code if rest else None
    return country, status, theme, rest


def load_rec(ctx: Context, ref: str) -> Recommendation:
    return load_numbered(ctx, Recommendation, ref, letter="R", noun="recommendation",
                         example="R12", listing="recs")


def where_from(rec: Recommendation) -> str:
    """"A/HRC/52/12, para 6.1" or what is known of it."""
    parts = [rec.symbol] if rec.symbol else []
    if rec.paragraph:
        parts.append(f"para {rec.paragraph}")
    return ", ".join(parts)


def origin(rec: Recommendation) -> str:
    """"UPR cycle 4, session 43" / "CRC" / "SR Human Rights Defenders"."""
    if rec.source == "upr":
        bits = [f"cycle {rec.cycle}" if rec.cycle else "", f"session {rec.session}"
                if rec.session else ""]
        return "UPR" + (" " + ", ".join(x for x in bits if x) if any(bits) else "")
    return rec.body or SOURCE_NAMES.get(rec.source, rec.source)


def status_words(history: list[RecAssessment]) -> str:
    """Each organisation's latest status, side by side; never one averaged status."""
    latest = latest_by_organisation(history)
    if not latest:
        return "not-assessed"
    return " · ".join(f"{r.status} ({r.organisation})" for r in latest)


def short(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def summary_item(rec: Recommendation) -> Line:
    held = ", ".join(rec.current_statuses)
    source = f" · {where_from(rec)}" if where_from(rec) else ""
    position = f" · {rec.position}" if rec.position else ""
    return item(b(rec.code), f" {name_of(rec.country)} · {origin(rec)}{source}{position} · ",
                b(held), f" — {short(rec.text)}")


def visible_cases(ctx: Context, rec_id: int) -> list[Case]:
    cases = (ctx.db.get(Case, n) for n in linked_cases(ctx.db, rec_id))
    return [c for c in cases if c is not None and may_see(ctx, c)]


def card(ctx: Context, rec: Recommendation) -> Reply:
    history = assessments(ctx.db, rec.key)
    head: list[Inline] = [b(f"{rec.code} — {name_of(rec.country)}"), f" — {origin(rec)}"]
    if where_from(rec):
        head.append(f" — {where_from(rec)}")
    lines: list[Line] = [line(*head), line(rec.text)]
    if rec.recommending_states:
        lines.append(line("Recommended by: ", ", ".join(rec.recommending_states)))
    if rec.position:
        lines.append(line("Position of the State: ", b(rec.position)))
    if rec.theme_list:
        lines.append(line("Themes: ", "; ".join(rec.theme_list)))
    if rec.affected_list:
        lines.append(line("Affected persons: ", "; ".join(rec.affected_list)))
    latest = latest_by_organisation(history)
    differ = len({r.status for r in latest}) > 1
    lines.append(line("Status: ", b(status_words(history)),
                      i(" — the organisations' assessments differ; each is kept")
                      if differ else ""))
    if history:
        lines.append(line(b("Assessments")))
        for row in history:
            evidence = f": {row.evidence}" if row.evidence else ""
            lines.append(item(f"{ctx.local(row.at):%Y-%m-%d} {row.organisation} "
                              f"({roles.name_of(ctx.db, row.assessed_by)}): {row.status}"
                              f"{evidence}"))
    cases = visible_cases(ctx, rec.key)
    if cases:
        lines.append(line("Linked cases: ", ", ".join(
            f"#{c.id}" + (" (confidential)" if c.confidential else "") for c in cases)))
    statements = linked_statements(ctx.db, rec.key)
    if statements:
        lines.append(line("Linked statements: ", ", ".join(f"S{n}" for n in statements)))
    if rec.source == "upr":
        lines += _upr_lines(ctx, rec)
    return Reply(tuple(lines))


def _upr_lines(ctx: Context, rec: Recommendation) -> list[Line]:
    dates = upr_dates(ctx.db, rec.country)
    if dates is None:
        return []
    when = (f"{dates.next_session.start:%-d %b %Y}" if dates.next_session is not None
            else "not in the calendar yet")
    out = [line(i(f"Reviewed at {dates.reviewed}"
                  + (f" ({dates.reviewed_on:%b %Y})" if dates.reviewed_on else "")
                  + f"; next review {dates.next_review}: {when}"
                  + (f"; mid-term point {dates.midterm:%b %Y}" if dates.midterm else "")
                  + "."))]
    return out


def case_lines(ctx: Context, case_id: int) -> list[Line]:
    """The recommendations a case is linked to, for its card (shown only where the
    case itself may be)."""
    recs = recommendations_of_case(ctx.db, case_id)
    if not recs:
        return []
    return [line(b("Recommendations")), *(summary_item(r) for r in recs)]
