"""Follow up UN recommendations: list, show, assess, link to cases and statements, add.

Recommendations come from the UPR, treaty bodies and special procedures, mostly
by ``caucus-bot recs import``. Organisations assess how far each is implemented,
with evidence; every assessment is kept and disagreement is shown as it is.
A link to a case follows the case's confidentiality rule: a confidential case is
linked only where it may be named, and listed only where it may be seen.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from bot.arguments import SEP, Args, Option, Param
from bot.commands import Command, CommandError, Private, Role, UsageError
from bot.context import Context
from bot.replies import Line, Reply, b, i, line
from handlers.case_access import guard_place, load, may_see, names_hidden_case
from handlers.countries import country_param
from handlers.date_range import check_date
from handlers.rec_views import card, load_rec, read_filters, summary_item
from handlers.reminder_plan import rescheduled
from handlers.statement_lookup import load_statement
from storage.cases import log_event
from storage.recommendations import (
    POSITIONS,
    SOURCES,
    STATUSES,
    Recommendation,
    add_recommendation,
    assess,
    assessments,
    find_recommendations,
    joined,
    latest_by_organisation,
    link_case,
    link_statement,
)
from storage.statements import OrgProfile

PAGE_SIZE = 10
MAX_TEXT = 4000
MAX_ORG = 500


async def list_recs(ctx: Context, args: Args) -> Reply:
    country, status, theme, _ = read_filters(args["filters"])
    page = args.opt("page", 1)
    rows, total = find_recommendations(ctx.db, country=country, status=status, theme=theme,
                                       offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    if total == 0:
        filtered = country or status or theme
        return Reply.text("No recommendations match." if filtered else
                          "No recommendations yet. An admin imports them on the server (caucus-bot "
                          f"recs import FILE), or add one with {ctx.cmd('rec add')}.")
    pages = -(-total // PAGE_SIZE)
    if page > pages:
        raise CommandError(f"There {'is' if pages == 1 else 'are'} only {pages} "
                           f"page{'s' if pages > 1 else ''}.")
    lines: list[Line] = [line(b(f"{total:,} recommendation{'s' if total != 1 else ''}"),
                              f" (page {page} of {pages}):")]
    lines += [summary_item(rec) for rec in rows]
    if page < pages:
        lines.append(line(i(f"More: {ctx.cmd('recs')} {' '.join(args['filters'])} "
                            f"page={page + 1}".replace("  ", " "))))
    return Reply(tuple(lines))


async def show_rec(ctx: Context, args: Args) -> Reply:
    return card(ctx, load_rec(ctx, args["id"]))


def _organisation(ctx: Context, given: str | None) -> str:
    name = (given or "").strip()
    if not name:
        profile = ctx.db.get(OrgProfile, ctx.caller.id)
        name = profile.org_name if profile is not None else ""
    if not name:
        raise UsageError(f"Which organisation assesses it? Save yours once with "
                         f"{ctx.cmd('org set')} <name> | <country>, or add "
                         "org=\"Organisation name\".")
    if len(name) > MAX_ORG:
        raise CommandError(f"The organisation's name is {len(name):,} characters; the limit "
                           f"is {MAX_ORG}.")
    return name


async def set_status(ctx: Context, args: Args) -> Reply:
    rec = load_rec(ctx, args["id"])
    status = args["status"]
    if status == "not-assessed":
        raise UsageError("not-assessed is where every recommendation starts; assess it as one "
                         "of: " + ", ".join(STATUSES[1:]) + ".")
    evidence = (args.get("evidence") or "").strip()
    if len(evidence) > MAX_TEXT:
        raise CommandError(f"The evidence is {len(evidence):,} characters; the limit is "
                           f"{MAX_TEXT:,}. Give a link, or the essentials.")
    organisation = _organisation(ctx, args.opt("org"))
    others = latest_by_organisation(assessments(ctx.db, rec.key))
    row = assess(ctx.db, rec, status=status, organisation=organisation,
                 assessed_by=ctx.caller.id, at=ctx.now, evidence=evidence)
    ctx.audit("rec.status", rec.code, f"{organisation}: {status}")
    differing = [r for r in others if r.org_key != row.org_key and r.status != status]
    text = [line(b(rec.code), f": {organisation} assesses it ", b(status),
                 " (evidence recorded)." if evidence else ". Add evidence (a link or text) "
                 "after the status next time.")]
    if differing:
        text.append(line(i("Other organisations hold: " + "; ".join(
            f"{r.organisation}: {r.status}" for r in differing) + ". Each assessment is kept, "
            "side by side.")))
    return Reply(tuple(text))


def _links_hidden_case(db: Session, arguments: str) -> bool:
    """``/rec link R3 case 12`` stays on its side when case 12 is confidential or unknown."""
    words = arguments.split()
    if len(words) < 3 or words[1].lower() != "case":
        return False
    return names_hidden_case(db, " ".join(words[2:]))


async def link(ctx: Context, args: Args) -> Reply:
    rec = load_rec(ctx, args["id"])
    target = args["target"]
    if args["kind"] == "statement":
        statement = load_statement(ctx, target)
        if not link_statement(ctx.db, rec, statement.key, by=ctx.caller.id, at=ctx.now):
            raise CommandError(f"{rec.code} is already linked to {statement.code}.")
        ctx.audit("rec.link", rec.code, statement.code)
        return Reply.text(f"{rec.code} linked to statement {statement.code}.")
    digits = target.removeprefix("#")
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 9):
        raise UsageError(f"A case number, like 12, not '{target}'.")
    case = load(ctx, int(digits))
    guard_place(ctx, case)
    if not may_see(ctx, case):
        raise CommandError(f"#{case.id} is confidential: only the secretariat, or whoever "
                           "reported it, can link it.")
    if not link_case(ctx.db, rec, case.key, by=ctx.caller.id, at=ctx.now):
        raise CommandError(f"#{case.id} is already linked to {rec.code}.")
    log_event(ctx.db, case, at=ctx.now, actor_id=ctx.caller.id, kind="rec", value=rec.code)
    # Target the case, as its other audit rows do: erasing the case clears the detail.
    ctx.audit("case.link", f"#{case.id}", rec.code)
    return Reply.text(f"#{case.id} linked to {rec.code}; the case's card lists it.")


def _optional_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return check_date(date.fromisoformat(value), "date=")
    except ValueError:
        raise UsageError(f"date= must be a date like 2023-01-27, not '{value}'.") from None


def _many(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").replace(";", ",").split(",") if v.strip()]


ADD_LIMITS = {"body": 128, "symbol": 64, "para": 32}


async def add(ctx: Context, args: Args) -> Reply:
    country = args["country"]  # a Country, read by country_param
    text = args["text"].strip()
    if len(text) > MAX_TEXT:
        raise CommandError(f"The text is {len(text):,} characters; the limit is {MAX_TEXT:,}.")
    for key, limit in ADD_LIMITS.items():
        if len(args.opt(key) or "") > limit:
            raise CommandError(f"{key}= is longer than {limit} characters.")
    source = args.opt("source", "upr")
    position = args.opt("position") or ("no-response" if source == "upr" else "")
    rec = add_recommendation(ctx.db, Recommendation(
        source=source, body=args.opt("body") or ("UPR" if source == "upr" else ""),
        country=country.code, recommending=joined(_many(args.opt("by"))),
        cycle=args.opt("cycle"), session=args.opt("session"), symbol=args.opt("symbol") or "",
        paragraph=args.opt("para") or "", text=text, position=position,
        themes=joined(_many(args.opt("themes"))), affected=joined(_many(args.opt("affected"))),
        published=_optional_date(args.opt("date")), created_by=ctx.caller.id,
        created_at=ctx.now, updated_at=ctx.now))
    ctx.audit("rec.add", rec.code, country.code)
    if source == "upr":
        rescheduled(ctx)  # the State's UPR dates may come from this one
    return Reply.of(line(b(rec.code), f" added for {country.name}: {text[:80]}"
                         + ("…" if len(text) > 80 else "")),
                    f"Assess it: {ctx.cmd('rec status')} {rec.code} <status> [evidence]")


COMMANDS = [
    Command("recs", list_recs, "List UN recommendations by State, status and theme",
            params=(Param("filters", kind="words", optional=True),),
            options=(Option("page", "N", kind="int"),), read_only=True,
            usage_text="[country] [status] [#theme] [page=N]",
            example="/recs Egypt not-implemented",
            details="Statuses: " + ", ".join(STATUSES) + ". #theme matches a theme or the "
                    "affected persons (#defenders, #human-rights-defenders)."),
    Command("rec", show_rec, "Show a recommendation with its assessments and links",
            params=(Param("id"),), example="/rec R12", read_only=True),
    Command("rec", set_status, "Assess how far a recommendation is implemented",
            sub="status", params=(Param("id"), Param("status", choices=STATUSES),
                                  Param("evidence", kind="text", optional=True)),
            options=(Option("org", "organisation"),),
            example="/rec status R12 partially-implemented https://example.org/new-law",
            details="Assessed for your saved organisation (/org set), or org=\"Name\". Each "
                    "organisation's latest assessment stands beside the others'; all are kept."),
    Command("rec", link, "Link a recommendation to a case or a statement", sub="link",
            params=(Param("id"), Param("kind", choices=("case", "statement")),
                    Param("target")),
            private=Private(when=_links_hidden_case),
            usage_text="<R-id> case <N>|statement <S-id>",
            example="/rec link R12 case 7",
            details="The case's card then lists the recommendation. A confidential case is "
                    "linked only in a direct message or a secure room."),
    Command("rec", add, "Add a recommendation by hand", sub="add", role=Role.SECRETARIAT,
            params=(country_param(), SEP, Param("text", kind="text")),
            options=(Option("source", choices=SOURCES), Option("cycle", "N", kind="int"),
                     Option("session", "N", kind="int"), Option("symbol", "A/HRC/52/12"),
                     Option("para", "6.1"), Option("position", choices=POSITIONS),
                     Option("by", "States"), Option("body", "CRC"), Option("themes", "list"),
                     Option("affected", "list"), Option("date", "YYYY-MM-DD")),
            example="/rec add Egypt | Ensure that human rights defenders can work without "
                    "reprisals source=upr cycle=4 session=43 symbol=A/HRC/52/12 para=6.1 "
                    "position=supported by=Norway",
            details="by=, themes= and affected= take several values separated by commas."),
]
