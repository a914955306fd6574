"""Flag cases of threats, attacks and reprisals against defenders; show and list them.

Reading goes through :func:`handlers.case_access.may_see`: elsewhere than it
allows, a confidential case is ``#N (confidential)``, and filtered lists leave
it out so that a filter cannot reveal its country or tags. The follow-up
commands live in ``handlers.case_followup``, the export in ``handlers.case_reports``,
each with its registry entries.
"""

from __future__ import annotations

import re
from datetime import date

from bot.arguments import SEP, Args, Option, Param
from bot.commands import Command, CommandError, Private, UsageError
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from handlers.case_access import (
    CASE_NUMBER,
    checked_text,
    load,
    may_see,
    private_reader,
)
from handlers.case_search import matching_cases
from handlers.countries import country_param, name_of, parse_country
from handlers.date_range import check_date
from handlers.rec_views import case_lines
from storage import roles
from storage.cases import (
    STATUSES,
    Case,
    add_case,
    find_cases,
    log_event,
    tags_of,
    timeline,
)

USUAL_TAGS = ("detention", "judicial-harassment", "travel-ban", "threats", "death-threat",
              "smear", "surveillance", "physical-attack", "torture", "killing", "disappearance",
              "restrictive-law", "transnational", "reprisal-un")
TAG_RULE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
PAGE_SIZE = 10


def _tags(raw: list[str]) -> list[str]:
    for tag in raw:
        if not TAG_RULE.fullmatch(tag):
            raise CommandError(f"'#{tag}' is not a tag: use lowercase letters, digits and "
                               "hyphens, e.g. #travel-ban.")
    return list(dict.fromkeys(raw))


async def flag(ctx: Context, args: Args) -> Reply:
    country = args["country"]
    summary = checked_text(args["summary"], "summary")
    tags = _tags(args["tag"])
    incident = _date(args.opt("date"), ctx) if args.opt("date") else None
    confidential = "confidential" in args.flags or ctx.room.is_direct
    case = add_case(ctx.db, Case(
        country=country.code, summary=summary, confidential=confidential,
        reporter_id=ctx.caller.id, room_id=ctx.room.id, incident_date=incident,
        created_at=ctx.now, updated_at=ctx.now), tags)
    ctx.subject = f"case:{case.id}"
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="flagged")
    ctx.audit("case.flag", f"#{case.id}", "confidential" if confidential else "")
    n = case.id
    if confidential and not ctx.room.private:
        return Reply.of(line(b(f"Case #{n}"), " recorded as confidential."))
    if confidential:
        return Reply.of(line(b(f"Case #{n}"), " recorded as confidential: only the secretariat "
                             "sees its details, in a direct message or a secure room."),
                        f"Add notes with {ctx.cmd('case note')} {n} <text>.")
    tag_text = f" [{', '.join(tags)}]" if tags else ""
    return Reply.of(line(b(f"Case #{n}"), f" flagged: {country.name} — {summary}{tag_text}"),
                    f"Follow up: {ctx.cmd('case')} {n} · {ctx.cmd('case note')} {n} <text> · "
                    f"{ctx.cmd('case status')} {n} verifying")


def _date(value: str, ctx: Context) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"date= must be a date like 2026-11-20, not '{value}'.") from None
    if day > ctx.local(ctx.now).date():
        raise CommandError(f"date= {day} is in the future; give the day it happened.")
    return check_date(day, "date=")


async def show_case(ctx: Context, args: Args) -> Reply:
    case = load(ctx, args["N"])
    if not may_see(ctx, case):
        return Reply.text(f"#{case.id} is confidential. Its details are shown only to the "
                          "secretariat, in a direct message or a secure room.")
    db = ctx.db
    lines: list[Line] = [line(b(f"Case #{case.id}"), f" — {name_of(case.country)} — ",
                              b(case.status), f" ({case.close_reason})" if case.close_reason
                              else "", " — confidential" if case.confidential else "")]
    lines.append(line(case.summary))
    tags = tags_of(db, case.key)
    if tags:
        lines.append(line("Tags: ", ", ".join(tags)))
    if case.pseudonym:
        lines.append(line("Person: ", case.pseudonym, i(" (pseudonym)")))
    shows_details = bool(case.details) and private_reader(ctx)
    if shows_details:
        lines.append(line("Confidential details: ", case.details or ""))
    if case.confidential or shows_details:
        ctx.audit("case.view", f"#{case.id}")  # who read confidential content: never what
    when = f"{ctx.local(case.created_at):%Y-%m-%d %H:%M}"
    happened = f"; happened {case.incident_date}" if case.incident_date else ""
    lines.append(line(f"Reporter: {roles.describe(db, case.reporter_id)}, {when}{happened}"))
    assignee = roles.describe(db, case.assignee_id) if case.assignee_id else "nobody"
    lines.append(line(f"Assignee: {assignee}"))
    lines.append(line(f"Consent: {', '.join(case.consent_scopes) or 'none recorded'}"))
    if case.un_body or case.un_reference:
        lines.append(line(f"UN body engaged: {case.un_body or '—'}; prior UN reference: "
                          f"{case.un_reference or '—'}"))
    lines += case_lines(ctx, case.key)  # shown only here, where the case may be
    lines.append(line(b("Timeline")))
    for ev in timeline(db, case.key):
        lines.append(item(f"{ctx.local(ev.at):%Y-%m-%d %H:%M} {roles.name_of(db, ev.actor_id)}: ",
                          describe_event(ev.kind, ev.value, ev.text, ev.id)))
    return Reply(tuple(lines))


def describe_event(kind: str, value: str, text: str, event_id: int | None = None) -> str:
    said = {
        "flagged": "flagged the case",
        # The number is what /case unnote takes.
        "note": f"note {event_id}: {text}",
        "unnote": f"deleted note {value}",
        "status": f"status → {value}" + (f" ({text})" if text else ""),
        "escalation": f"escalated to {value}" + (f": {text}" if text else ""),
        "public": f"public reaction: {text}",
        "assign": f"assigned to {value}",
        "consent": f"consent now: {value.replace(',', ', ') or 'none'}" + (f" ({text})" if text
                                                                             else ""),
        "confidential": f"confidential {value}",
        "pseudonym": f"pseudonym set to {text}",
        "details": "confidential details updated",
        "un": f"UN body {value}" + (f", reference {text}" if text else ""),
        "rec": f"linked to recommendation {value}",
    }
    return said.get(kind, f"{kind} {value} {text}".strip())


def summary_line(ctx: Context, case: Case) -> Line:
    if not may_see(ctx, case):
        return item(b(f"#{case.id}"), " (confidential)")
    short = case.summary if len(case.summary) <= 80 else case.summary[:79] + "…"
    tags = tags_of(ctx.db, case.key)
    tag_text = f" [{', '.join(tags)}]" if tags else ""
    mark = " (confidential)" if case.confidential else ""
    return item(b(f"#{case.id}"), f"{mark} {name_of(case.country)} — {case.status} — "
                f"{short}{tag_text}",
                i(f" · {ctx.local(case.updated_at):%d %b}"))


async def list_cases(ctx: Context, args: Args) -> Reply:
    status = country = tag = None
    words: list[str] = []
    for word in args["filters"]:
        if word.lower() in STATUSES:
            status = word.lower()
        elif word.startswith("#") and len(word) > 1:
            tag = word[1:].lower()
        else:
            words.append(word)
    if words:
        country = parse_country(" ".join(words)).code
    page = args.opt("page", 1)
    if page < 1:
        raise UsageError("page= starts at 1.")
    filtered = bool(status or country or tag)
    # A filter on a hidden case would reveal its country, tag or status: leave it out.
    hide = filtered and not private_reader(ctx)
    rows, total = find_cases(ctx.db, status=status, country=country, tag=tag,
                             offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                             confidential=False if hide else None)
    if total == 0:
        return Reply.text("No cases match." if filtered else
                          f"No cases yet. Flag one with {ctx.cmd('flag')} <country> | <summary>.")
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    if page > pages:
        raise CommandError(f"There {'is' if pages == 1 else 'are'} only {pages} "
                           f"page{'s' if pages > 1 else ''}.")
    lines: list[Line] = [line(b(f"{total} case{'s' if total != 1 else ''}"),
                              f", newest first (page {page} of {pages}):")]
    lines += [summary_line(ctx, case) for case in rows]
    if page < pages:
        lines.append(line(i(f"More: {ctx.cmd('cases')} {' '.join(args['filters'])} "
                            f"page={page + 1}".replace("  ", " "))))
    return Reply(tuple(lines))


async def search_cases(ctx: Context, args: Args) -> Reply:
    page = args.opt("page", 1)
    if page < 1:
        raise UsageError("page= starts at 1.")
    found = matching_cases(ctx, args["words"])
    asked = " ".join(args["words"])
    if not found:
        return Reply.text(f"No case matches “{asked}”.")
    pages = -(-len(found) // PAGE_SIZE)
    if page > pages:
        raise CommandError(f"There {'is' if pages == 1 else 'are'} only {pages} "
                           f"page{'s' if pages > 1 else ''}.")
    many = len(found) != 1
    lines: list[Line] = [line(b(f"{len(found)} case{'s' if many else ''} "
                                f"match{'' if many else 'es'} “{asked}”"),
                              f", newest first (page {page} of {pages}):")]
    lines += [summary_line(ctx, c) for c in found[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
    if page < pages:
        lines.append(line(i(f"More: {ctx.cmd('cases search')} {asked} page={page + 1}")))
    return Reply(tuple(lines))


COMMANDS = [
    Command("flag", flag, "Flag a threat, attack or reprisal against a defender",
            params=(country_param(), SEP, Param("summary", kind="text"),
                    Param("tag", kind="tags")),
            flags=("confidential",), options=(Option("date", "YYYY-MM-DD"),),
            private=Private(flags=("confidential",)),
            example="/flag Egypt | Lawyer of a detained defender arrested at the airport "
                    "#detention #travel-ban",
            details="Usual tags: " + ", ".join(USUAL_TAGS) + " (others are allowed).\n"
                    "reprisal-un marks a reprisal for cooperating with the UN.\n"
                    "Flagged in a direct message, or with --confidential, the case is "
                    "confidential.\ndate= is the day it happened, if not today."),
    Command("cases", list_cases, "List cases, newest first, 10 a page",
            params=(Param("filters", kind="words", optional=True),),
            options=(Option("page", "N", kind="int"),),
            usage_text="[status] [country] [#tag] [page=N]", example="/cases verifying Egypt",
            read_only=True,
            details="Statuses: " + " → ".join(STATUSES) + "."),
    Command("cases", search_cases, "Find cases by words in what you may read of them",
            sub="search", params=(Param("words", kind="words"),),
            options=(Option("page", "N", kind="int"),), example="/cases search lawyer airport",
            read_only=True,
            details="Every word must appear in the summary, country, tags, pseudonym or notes. "
                    "Confidential cases are searched only where you may read them."),
    Command("case", show_case, "Show a case with its timeline", params=(CASE_NUMBER,),
            example="/case 12", read_only=True),
]
