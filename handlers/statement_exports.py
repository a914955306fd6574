"""Sign-on lists leaving the chat: CSV, a paste-ready list, the HRC co-sponsor block, nudges.

Unlisted signatories are never named in text or hrc; the CSV names them, and holds web
signers' names and e-mails, so it goes only to a direct message or a secure room.
Signatures on an earlier text version are flagged in every export.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.arguments import Args, Param
from bot.commands import Command, CommandError, Role
from bot.context import Context
from bot.replies import Reply, b, line
from handlers.countries import name_of
from handlers.csv_export import csv_file, iso_time, text_file
from handlers.signons import totals
from handlers.statement_lookup import STATEMENT_ID, load_statement
from handlers.when import closes_in
from storage import audit, roles, web_signons
from storage.statements import WEB, Signature, Statement, active_signatures, counts

CSV_COLUMNS = ("statement", "organisation", "country", "country_code", "level", "ecosoc",
               "unlisted", "text_version", "earlier_version", "signed_by", "signed_in",
               "signed_at", "withdrawn_at", "withdrawn_by", "withdrawn_late", "source", "review",
               "signer_name", "signer_email")
EARLIER = "†"
STATUS_PHRASES = {
    "general": ("a non-governmental organization in general consultative status",
                "non-governmental organizations in general consultative status"),
    "special": ("a non-governmental organization in special consultative status",
                "non-governmental organizations in special consultative status"),
    "roster": ("a non-governmental organization on the roster",
               "non-governmental organizations on the roster"),
}


async def export_statement(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    fmt = args.get("format") or "csv"
    ctx.audit("statement.export", statement.code, fmt)
    if fmt == "csv":
        return _csv(ctx, statement)
    listed = sorted((s for s in active_signatures(ctx.db, statement.key) if not s.unlisted),
                    key=lambda s: s.org_name.casefold())
    return _text(ctx, statement, listed) if fmt == "text" else _hrc(ctx, statement, listed)


def _earlier(statement: Statement, s: Signature) -> str:
    return EARLIER if s.text_version < statement.text_version else ""


def _csv(ctx: Context, statement: Statement) -> Reply:
    if not ctx.room.private:
        raise CommandError("The CSV names unlisted signatories: ask for it in a direct message "
                           f"with me or in a secure room. Here, {ctx.cmd('statement export')} "
                           f"{statement.code} text works.")
    rows = ctx.db.exec(select(Signature).where(Signature.statement_id == statement.id)
                       .order_by(Signature.org_key)).all()
    signers = web_signons.signers_by_signature(ctx.db, statement.key)
    data = [[statement.code, s.org_name, name_of(s.country) if s.country else "",
             s.country or "", s.level or "", s.ecosoc or "", "yes" if s.unlisted else "no",
             str(s.text_version), "yes" if _earlier(statement, s) else "no",
             roles.describe(ctx.db, s.signed_by), s.signed_in, iso_time(s.signed_at, ctx.tz),
             iso_time(s.withdrawn_at, ctx.tz),
             roles.describe(ctx.db, s.withdrawn_by) if s.withdrawn_by else "",
             _yes_no(s.withdrawn_at is not None and closed_at(ctx.db, statement, s.withdrawn_at)),
             *_web_columns(s.source, signers.get(s.key))]
            for s in rows]
    # Web sign-ons that are not (or not yet) signatures: the reviewer checks the signer here.
    unsigned = web_signons.undecided(ctx.db, statement.key)
    data += [[statement.code, w.org_name, name_of(w.country) if w.country else "",
              w.country or "", w.level or "", w.ecosoc or "", "yes" if w.unlisted else "no",
              str(w.text_version), "yes" if w.text_version < statement.text_version else "no",
              w.signer, web_signons.SIGNED_IN, iso_time(w.submitted_at, ctx.tz),
              iso_time(w.decided_at, ctx.tz) if w.status == web_signons.WITHDRAWN else "",
              w.signer if w.status == web_signons.WITHDRAWN else "", "no",
              *_web_columns(WEB, w)] for w in unsigned]
    active = sum(1 for s in rows if s.withdrawn_at is None)
    summary = f"{statement.code}: {len(rows)} rows ({active} active, {len(rows) - active} withdrawn"
    if unsigned:
        summary += (f"; {len(unsigned)} more from the web, not signed: pending, rejected, "
                    "duplicate or withdrawn before review")
    return Reply.of(summary + ").",
                    file=csv_file(f"{statement.code}-signons.csv", CSV_COLUMNS, data))


def _web_columns(source: str, web: web_signons.WebSignon | None) -> list[str]:
    """source, review, signer_name, signer_email: the signer's data leaves only in the CSV."""
    if web is None:
        return [source, "", "", ""]
    return [source, web.status, web.signer_name or "", web.signer_email or ""]


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def closed_at(db: Session, statement: Statement, moment: datetime) -> bool:
    """Whether sign-ons were closed at ``moment``: past the deadline, or closed by the
    secretariat then (the audit trail holds when it closed and reopened)."""
    if statement.deadline is not None and moment >= statement.deadline:
        return True
    switches = [e for e in reversed(audit.recent(
        db, None, target=statement.code, actions=("statement.close", "statement.reopen")))
        if e.at <= moment]
    return bool(switches) and switches[-1].action == "statement.close"


def _text(ctx: Context, statement: Statement, listed: list[Signature]) -> Reply:
    body = [f"{s.org_name}" + (f" ({name_of(s.country)})" if s.country else "")
            + _earlier(statement, s) for s in listed]
    total, countries = counts(ctx.db, statement.key)
    unlisted = total - len(listed)
    footer = [totals(total, countries)]
    if unlisted:
        footer.append(f"({unlisted} of them unlisted: counted, not named)")
    if any(_earlier(statement, s) for s in listed):
        footer.append(f"{EARLIER} signed an earlier version of the text")
    text = "\n".join([*body, "", *footer])
    return Reply.text(text) + Reply.of(file=text_file(f"{statement.code}-signatories.txt", text))


def _names(rows: list[Signature]) -> str:
    return ", ".join(s.org_name for s in rows)


def _hrc(ctx: Context, statement: Statement, listed: list[Signature]) -> Reply:
    groups = {status: [s for s in listed if s.ecosoc == status] for status in STATUS_PHRASES}
    without = [s for s in listed if s.ecosoc not in STATUS_PHRASES]
    sponsors = [s for rows in groups.values() for s in rows]
    if not sponsors:
        raise CommandError(f"An HRC written statement needs at least one co-sponsor with ECOSOC "
                           f"status; nobody has signed {statement.code} with ecosoc=general, "
                           "special or roster.")
    parts = [f"{_names(rows)}, {STATUS_PHRASES[status][len(rows) > 1]}"
             for status, rows in groups.items() if rows]
    kind = "Joint written statement" if len(sponsors) > 1 else "Written statement"
    lines = [f"{kind}{'*' if without else ''} submitted by {', '.join(parts)}"]
    if without:
        many = len(without) > 1
        lines += ["", f"*{_names(without)}, {'NGOs' if many else 'an NGO'} without consultative "
                      f"status, also {'share' if many else 'shares'} the views expressed in this "
                      "statement."]
    notes = []
    unknown = [s for s in without if s.ecosoc is None]
    if unknown:
        notes.append(f"No ECOSOC status given for: {_names(unknown)} (printed as without "
                     "status; they can re-sign with ecosoc=...).")
    earlier = [s for s in listed if _earlier(statement, s)]
    if earlier:
        notes.append(f"{EARLIER} Signed an earlier version of the text: {_names(earlier)}.")
    unlisted = counts(ctx.db, statement.key)[0] - len(listed)
    if unlisted:
        notes.append(f"{unlisted} unlisted signator{'ies are' if unlisted > 1 else 'y is'} not "
                     "printed.")
    block = "\n".join(lines)
    return Reply.of(line(b(f"{statement.code} co-sponsor block")), *block.split("\n"),
                    *(line(n) for n in notes),
                    file=text_file(f"{statement.code}-hrc-cosponsors.txt", block))


def nudge_times(statement: Statement, *, nudge_days: tuple[int, ...], send_time: time,
                tz: ZoneInfo) -> list[tuple[int, datetime]]:
    """(days before, when) of each nudge: at ``send_time`` on the day, before the deadline."""
    if statement.deadline is None:
        return []
    deadline_day = statement.deadline.astimezone(tz).date()
    out = []
    for days in sorted(set(nudge_days), reverse=True):
        at = datetime.combine(deadline_day - timedelta(days=days), send_time, tzinfo=tz)
        if at < statement.deadline:
            out.append((days, at))
    return out


def nudge_message(db: Session, statement: Statement, *, now: datetime, tz: ZoneInfo,
                  prefix: str = "/") -> Reply:
    total, _ = counts(db, statement.key)
    when = closes_in(statement.deadline, now, tz) if statement.deadline else "is open"
    return Reply.of(line(b(f"{statement.code} \"{statement.title}\""), f" {when} — {total} "
                         f"sign-on{'s' if total != 1 else ''} so far. "
                         f"{prefix}signon {statement.code} <organisation>"))


COMMANDS = [
    Command("statement", export_statement, "Export sign-ons: CSV, a paste-ready list, or the "
            "HRC co-sponsor block", sub="export",
            params=(STATEMENT_ID, Param("format", optional=True, choices=("csv", "text", "hrc"))),
            role=Role.SECRETARIAT, example="/statement export S3 hrc", read_only=True,
            details="csv has every field and is sent only in a direct message or a secure "
                    "room; text and hrc never name unlisted signatories."),
]
