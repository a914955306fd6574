"""What leaves the chat about cases: CSV exports, the reprisals submission, the stale digest.

Files are where leaks hurt most: confidential cases go only to a direct
message or a secure room, and every row says which consent it carries.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.arguments import Args, Param
from bot.commands import Command, CommandError, Role, UsageError
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from handlers.countries import name_of
from handlers.csv_export import csv_file, iso_time, text_file
from storage import roles
from storage.cases import STATUSES, Case, CaseEvent, reprisal_cases, stale_cases, tags_of, timeline

CSV_COLUMNS = ("case", "status", "close_reason", "country", "country_code", "tags", "summary",
               "pseudonym", "confidential", "consent", "reporter", "assignee", "flagged_at",
               "happened_on", "updated_at", "un_body", "un_reference", "escalations",
               "public_reactions")


async def export_cases(ctx: Context, args: Args) -> Reply:
    what = (args.get("what") or "").lower()
    if what == "reprisals":
        return await export_reprisals(ctx, args)
    if args.get("year") is not None:
        raise UsageError("A year goes only with: reprisals [year].")
    if what and what not in STATUSES:
        raise UsageError(f"Export what? A status ({', '.join(STATUSES)}) or reprisals.")
    query = select(Case).order_by(col(Case.id))
    if what:
        query = query.where(Case.status == what)
    cases = list(ctx.db.exec(query))
    left_out = 0
    if not ctx.room.private:
        left_out = sum(1 for c in cases if c.confidential)
        cases = [c for c in cases if not c.confidential]
    rows = [_case_row(ctx, c) for c in cases]
    stamp = f"{ctx.local(ctx.now):%Y-%m-%d}"
    name = f"cases-{what + '-' if what else ''}{stamp}.csv"
    text = f"{len(rows)} case{'s' if len(rows) != 1 else ''} exported."
    if left_out:
        text += (f" {left_out} confidential case{'s were' if left_out != 1 else ' was'} left "
                 "out: export in a direct message or a secure room to include them.")
    ctx.audit("case.export", what or "all", f"{len(rows)} rows")
    return Reply.of(text, file=csv_file(name, CSV_COLUMNS, rows))


def _case_row(ctx: Context, case: Case) -> list[str]:
    events = timeline(ctx.db, case.key)
    return [
        str(case.id), case.status, case.close_reason or "", name_of(case.country), case.country,
        " ".join(tags_of(ctx.db, case.key)), case.summary, case.pseudonym or "",
        "yes" if case.confidential else "no", " ".join(case.consent_scopes) or "none",
        roles.describe(ctx.db, case.reporter_id),
        roles.describe(ctx.db, case.assignee_id) if case.assignee_id else "",
        iso_time(case.created_at, ctx.tz),
        str(case.incident_date or ""), iso_time(case.updated_at, ctx.tz),
        case.un_body or "", case.un_reference or "",
        "; ".join(f"{e.value} {ctx.local(e.at):%Y-%m-%d}" for e in events
                  if e.kind == "escalation"),
        "; ".join(f"{e.text} ({ctx.local(e.at):%Y-%m-%d})" for e in events if e.kind == "public"),
    ]


def reporting_period(report_year: int) -> tuple[datetime, datetime]:
    """The SG's reprisals report of year Y covers 1 May Y-1 to 30 April Y."""
    return (datetime(report_year - 1, 5, 1, tzinfo=UTC), datetime(report_year, 5, 1, tzinfo=UTC))


async def export_reprisals(ctx: Context, args: Args) -> Reply:
    if not ctx.room.private:
        raise CommandError("The reprisals submission names States and cases: ask for it in a "
                           "direct message with me or in a secure room.")
    today = ctx.local(ctx.now).date()
    year = args.get("year") or (today.year + 1 if today.month >= 5 else today.year)
    if not 2000 <= year <= 2100:
        raise UsageError(f"{year} is not a report year (e.g. {today.year}).")
    start, end = reporting_period(year)
    cases = reprisal_cases(ctx.db, start=start, end=end)
    included = [c for c in cases if "sg-report" in c.consent_scopes]
    by_state: dict[str, list[Case]] = defaultdict(list)
    for case in included:
        by_state[name_of(case.country)].append(case)
    out = [f"Submission to the Secretary-General's report on reprisals, {year}",
           f"Reporting period: 1 May {year - 1} to 30 April {year}", ""]
    for state in sorted(by_state):
        out += [state, "=" * len(state)]
        for case in by_state[state]:
            out += _reprisal_entry(ctx.db, ctx, case)
    skipped = len(cases) - len(included)
    out.append(f"{len(included)} case(s) included; {skipped} reprisal case(s) in the period "
               "have no sg-report consent and are not included.")
    ctx.audit("case.export", f"reprisals {year}", f"{len(included)} included, {skipped} counted")
    file = text_file(f"reprisals-{year}.txt", "\n".join(out))
    return Reply.of(line(b(f"Reprisals {year}"), f": {len(included)} case(s) from "
                         f"{len(by_state)} State(s); {skipped} without sg-report consent "
                         "counted, not included."), file=file)


FOLLOW_UP_KINDS = ("escalation", "public", "status")


def _reprisal_entry(db: Session, ctx: Context, case: Case) -> list[str]:
    happened = case.incident_date or ctx.local(case.created_at).date()
    follow_up = [f"{ctx.local(e.at):%Y-%m-%d} {_follow_up_text(e)}"
                 for e in timeline(db, case.key) if e.kind in FOLLOW_UP_KINDS]
    return [
        f"Case #{case.id} — {happened:%d %B %Y}" + (f" — {case.pseudonym}" if case.pseudonym
                                                    else ""),
        f"  UN body engaged: {case.un_body or 'not recorded'}",
        f"  What happened: {case.summary}",
        f"  Follow-up: {'; '.join(follow_up) or 'none recorded'}",
        f"  Prior UN references: {case.un_reference or 'none'}",
        f"  Consent: {', '.join(case.consent_scopes)}",
        "",
    ]


def _follow_up_text(event: CaseEvent) -> str:
    if event.kind == "escalation":
        return f"referred to {event.value}" + (f" ({event.text})" if event.text else "")
    if event.kind == "public":
        return f"public reaction: {event.text}"
    return f"status {event.value}"


def stale_digest(db: Session, *, now: datetime, stale_days: int) -> Reply | None:
    """The daily list for secure rooms of cases nobody has touched for ``stale_days``.

    Every member of a room reads a message sent to it, whoever is secretariat: a
    confidential case appears here only as its number.
    """
    cases = stale_cases(db, before=now - timedelta(days=stale_days))
    if not cases:
        return None
    lines: list[Line] = [line(b(f"{len(cases)} case{'s' if len(cases) != 1 else ''} waiting"),
                              f" (new or verifying, no update for {stale_days}+ days):")]
    for case in cases:
        idle = (now - case.updated_at).days
        if case.confidential:
            lines.append(item(b(f"#{case.id}"), " (confidential)", i(f" · {idle} days idle")))
            continue
        tags = tags_of(db, case.key)
        lines.append(item(b(f"#{case.id}"), f" {name_of(case.country)} — {case.status} — ",
                          case.summary if len(case.summary) <= 80 else case.summary[:79] + "…",
                          f" [{', '.join(tags)}]" if tags else "", i(f" · {idle} days idle")))
    return Reply(tuple(lines))


COMMANDS = [
    Command("case", export_cases, "Export cases as CSV (confidential ones only in private)",
            sub="export", params=(Param("what", optional=True),
                                  Param("year", kind="int", optional=True)),
            role=Role.SECRETARIAT, usage_text="[status] | reprisals [year]", read_only=True,
            example="/case export reprisals 2027",
            details="reprisals [year]: the reprisal-un cases of the Secretary-General's "
                    "reporting period (1 May to 30 April) with sg-report consent, by State; "
                    "only in a direct message or a secure room."),
]
