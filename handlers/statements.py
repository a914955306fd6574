"""Joint statements: what a secretariat opens, edits, versions and closes.

Sign-ons live in ``handlers.signons`` and exports in ``handlers.statement_exports``;
the registry entries of all of them are here, so /help shows one family.
"""

from __future__ import annotations

import re

from sqlmodel import col, select

from bot.arguments import Args, Option, Param
from bot.commands import Command, CommandError, Role, UsageError
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from handlers.reminder_plan import rescheduled
from handlers.statement_lookup import STATEMENT_ID, deadline_words, load_statement, sign_ons_closed
from handlers.when import parse_deadline, sentence, stamp, zone_name
from storage.calendar import HrcSession
from storage.numbering import next_number
from storage.statements import (
    Signature,
    Statement,
    StatementRoom,
    StatementText,
    active_signatures,
    counts,
    open_statements,
    rooms_of,
)
from storage.web_signons import pending_count

LAST_STATEMENT_ID = "statement.last_id"  # the highest id ever given (storage.numbering)
SESSION_RULE = re.compile(r"(HRC|UPR)\d{1,3}", re.IGNORECASE)

def _apply_options(ctx: Context, statement: Statement, options: dict[str, str]) -> list[str]:
    changed = []
    if "title" in options:
        statement.title = _title(options["title"])
        changed.append("title")
    if "deadline" in options:
        deadline = parse_deadline(options["deadline"], ctx.tz)
        if deadline <= ctx.now:
            raise CommandError(f"The deadline {stamp(deadline, ctx.tz)} is in the past.")
        statement.deadline = deadline
        changed.append("deadline")
    if "session" in options:
        if not SESSION_RULE.fullmatch(options["session"]):
            raise CommandError(f"session= must be a session code like HRC62 or UPR51, not "
                               f"'{options['session']}'.")
        statement.session = options["session"].upper()
        changed.append("session")
    if "url" in options:
        if not options["url"].startswith(("http://", "https://")):
            raise CommandError("url= must start with http:// or https://.")
        statement.url = options["url"]
        changed.append("url")
    return changed


def session_note(ctx: Context, statement: Statement, changed: list[str]) -> tuple[Line, ...]:
    """A session code the calendar does not know is kept, and the secretariat is told so
    (``/deadline add`` refuses it; here it may be a session not yet in the calendar)."""
    if "session" not in changed or ctx.db.get(HrcSession, statement.session) is not None:
        return ()
    return (line(i(f"{statement.session} is not in the calendar ({ctx.cmd('sessions')} "
                   "lists those that are): kept as written, with no session deadlines.")),)


def _shown(ctx: Context, statement: Statement, field: str) -> str:
    """A changed field's new value, for the audit trail: nothing in a statement is secret."""
    if field == "deadline" and statement.deadline is not None:
        return stamp(statement.deadline, ctx.tz)
    return str(getattr(statement, field))


def _title(title: str) -> str:
    if not title.strip():
        raise UsageError("The title is empty.")
    if len(title) > 500:
        raise CommandError(f"The title is {len(title)} characters; keep it under 500.")
    return title.strip()


def announcement(ctx: Context, statement: Statement) -> Reply:
    lines: list[Line] = [line(b(f"New joint statement {statement.code}"), f": {statement.title}")]
    details = [sentence(deadline_words(ctx, statement, zone=True))]
    if statement.session:
        details.append(f"session {statement.session}")
    lines.append(line(" · ".join(details)))
    if statement.url:
        lines.append(line("Text: ", statement.url))
    lines.append(line(f"Sign on: {ctx.cmd('signon')} {statement.code} <organisation>"))
    return Reply(tuple(lines))


async def new_statement(ctx: Context, args: Args) -> Reply:
    statement = Statement(title=_title(args["title"]), created_by=ctx.caller.id,
                          created_at=ctx.now)
    changed = _apply_options(ctx, statement, args.options)
    statement.id = next_number(ctx.db, Statement.id, LAST_STATEMENT_ID)
    ctx.db.add(statement)
    ctx.db.flush()
    ctx.db.add(StatementRoom(statement_id=statement.key, room_id=ctx.room.id))
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("statement.new", statement.code, statement.title)
    return announcement(ctx, statement) + Reply(session_note(ctx, statement, changed))


async def announce(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    if statement.status != "open":
        raise CommandError(f"{statement.code} is closed for sign-ons; reopen it first: "
                           f"{ctx.cmd('statement reopen')} {statement.code}")
    if sign_ons_closed(statement, ctx.now):
        raise CommandError(f"{statement.code}'s deadline has passed; move it first: "
                           f"{ctx.cmd('statement edit')} {statement.code} deadline=YYYY-MM-DD")
    if ctx.room.id in rooms_of(ctx.db, statement.key):
        raise CommandError(f"{statement.code} was already announced here.")
    ctx.db.add(StatementRoom(statement_id=statement.key, room_id=ctx.room.id))
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("statement.announce", statement.code)
    return announcement(ctx, statement)


async def edit_statement(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    if not args.options:
        raise UsageError("Give at least one of title=, deadline=, session=, url=.")
    changed = _apply_options(ctx, statement, args.options)
    ctx.db.add(statement)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("statement.edit", statement.code, "; ".join(
        f"{field} → {_shown(ctx, statement, field)}" for field in changed))
    return Reply.text(f"{statement.code} updated ({', '.join(changed)}). "
                      f"{sentence(deadline_words(ctx, statement, zone=True))}.") + Reply(
        session_note(ctx, statement, changed))


async def new_text(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    signed_before, _ = counts(ctx.db, statement.key)
    statement.text_version += 1
    ctx.db.add(StatementText(statement_id=statement.key, version=statement.text_version,
                             text=args["text"], at=ctx.now, by=ctx.caller.id))
    ctx.db.add(statement)
    ctx.audit("statement.text", statement.code, f"version {statement.text_version}")
    notice = Reply.of(line(b(f"{statement.code} \"{statement.title}\""), ": the text changed "
                           f"(version {statement.text_version})."),
                      f"{signed_before} organisation{'s' if signed_before != 1 else ''} signed "
                      "an earlier version; exports flag them. Read the new text before "
                      f"signing: {ctx.cmd('statement')} {statement.code}")
    for room_id in rooms_of(ctx.db, statement.key):
        ctx.notify(room_id, notice)
    return notice


async def set_open(ctx: Context, args: Args, *, status: str) -> Reply:
    statement = load_statement(ctx, args["id"])
    if statement.status == status:
        raise CommandError(f"{statement.code} is already {status}.")
    statement.status = status
    ctx.db.add(statement)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit(f"statement.{'close' if status == 'closed' else 'reopen'}", statement.code)
    total, countries = counts(ctx.db, statement.key)
    return Reply.text(f"{statement.code} is {status}: {total} sign-on{'s' if total != 1 else ''} "
                      f"from {countries} countr{'ies' if countries != 1 else 'y'}.")


async def close_statement(ctx: Context, args: Args) -> Reply:
    return await set_open(ctx, args, status="closed")


async def reopen_statement(ctx: Context, args: Args) -> Reply:
    return await set_open(ctx, args, status="open")


async def delete_statement(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    signed = ctx.db.exec(select(Signature).where(Signature.statement_id == statement.id)).first()
    if signed is not None:
        raise CommandError(f"{statement.code} has sign-ons (withdrawn ones count: they are "
                           f"history); close it instead: {ctx.cmd('statement close')} "
                           f"{statement.code}")
    for model in (StatementRoom, StatementText):
        for row in ctx.db.exec(select(model).where(model.statement_id == statement.id)):
            ctx.db.delete(row)
    ctx.db.delete(statement)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("statement.delete", statement.code, statement.title)
    return Reply.text(f"{statement.code} \"{statement.title}\" deleted.")


async def show_statement(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    total, countries = counts(ctx.db, statement.key)
    closed = sign_ons_closed(statement, ctx.now)
    lines: list[Line] = [line(b(f"{statement.code}"), f" {statement.title} — "
                              f"{'closed' if closed else 'open'}")]
    lines.append(line(sentence(deadline_words(ctx, statement, zone=True))
                      + (f" · session {statement.session}" if statement.session else "")))
    if statement.url:
        lines.append(line("Text: ", statement.url))
    latest = ctx.db.get(StatementText, (statement.id, statement.text_version))
    if latest is not None:
        lines.append(line(f"Text version {statement.text_version}: ", latest.text))
    lines.append(line(f"{total} organisation{'s' if total != 1 else ''} from {countries} "
                      f"countr{'ies' if countries != 1 else 'y'} signed."))
    waiting = pending_count(ctx.db, statement.key)
    if waiting:
        # Counted apart, never named: nobody has vouched for them yet.
        lines.append(line(f"{waiting} more from the web wait{'s' if waiting == 1 else ''} for "
                          "the secretariat's review."))
    mine = [s for s in active_signatures(ctx.db, statement.key)
            if s.signed_by == ctx.caller.id]
    if mine:
        # An unlisted name typed in a DM must not come back in a group room.
        shown = [s for s in mine if ctx.room.private or not s.unlisted]
        hidden = len(mine) - len(shown)
        names = [s.org_name + (" (earlier text)" if s.text_version < statement.text_version
                               else "") for s in shown]
        if hidden:
            names.append(f"{hidden} unlisted (named only in a direct message)")
        lines.append(line("You signed for: ", ", ".join(names)))
    elif not closed:
        lines.append(line(i(f"You have not signed. {ctx.cmd('signon')} {statement.code} "
                            "<organisation>")))
    return Reply(tuple(lines))


async def list_statements(ctx: Context, args: Args) -> Reply:
    closed = args.get("which") == "closed"
    if closed:
        rows = [s for s in ctx.db.exec(select(Statement).order_by(col(Statement.id).desc()))
                if sign_ons_closed(s, ctx.now)]
    else:
        rows = [s for s in open_statements(ctx.db) if not sign_ons_closed(s, ctx.now)]
    if not rows:
        return Reply.text("No closed statements." if closed else "No open statements.")
    lines: list[Line] = [line(b("Closed statements:" if closed else "Open statements"),
                              "" if closed else f" (deadlines in {zone_name(ctx.tz)}):")]
    for statement in rows:
        total, countries = counts(ctx.db, statement.key)
        lines.append(item(b(statement.code), f" {statement.title} — "
                          f"{deadline_words(ctx, statement)} — {total} sign-on"
                          f"{'s' if total != 1 else ''}, {countries} countr"
                          f"{'ies' if countries != 1 else 'y'}"))
    return Reply(tuple(lines))


_EDIT = (Option("title", "text"), Option("deadline", "YYYY-MM-DD[THH:MM]"),
         Option("session", "HRC62"), Option("url", "link"))

COMMANDS = [
    Command("statements", list_statements, "List open joint statements with their deadlines "
            "(or the closed ones)", params=(Param("which", optional=True,
                                                  choices=("open", "closed")),),
            example="/statements closed", read_only=True),
    Command("statement", show_statement, "Show a statement, its count and whether you signed",
            params=(STATEMENT_ID,), example="/statement S3", read_only=True),
    Command("statement", new_statement, "Open a joint statement for sign-ons", sub="new",
            params=(Param("title", kind="text"),), options=_EDIT[1:], role=Role.SECRETARIAT,
            example='/statement new "Joint letter on reprisals against Egyptian defenders" '
                    "deadline=2026-12-04 session=HRC61"),
    Command("statement", announce, "Announce a statement in this room too (it then gets "
            "text-change notices and deadline nudges)", sub="announce", params=(STATEMENT_ID,),
            role=Role.SECRETARIAT, example="/statement announce S3"),
    Command("statement", edit_statement, "Change a statement's title, deadline, session or link",
            sub="edit", params=(STATEMENT_ID,), options=_EDIT, role=Role.SECRETARIAT,
            example="/statement edit S3 deadline=2026-12-06T12:00"),
    Command("statement", new_text, "Record a new version of the text (or a link to it)",
            sub="text", params=(STATEMENT_ID, Param("text", kind="text")), role=Role.SECRETARIAT,
            example="/statement text S3 https://example.org/letter-v2"),
    Command("statement", close_statement, "Close sign-ons", sub="close", params=(STATEMENT_ID,),
            role=Role.SECRETARIAT),
    Command("statement", reopen_statement, "Reopen sign-ons", sub="reopen", params=(STATEMENT_ID,),
            role=Role.SECRETARIAT),
    Command("statement", delete_statement, "Delete a statement nobody has signed (a mistake)",
            sub="delete", params=(STATEMENT_ID,), role=Role.SECRETARIAT,
            example="/statement delete S3",
            details="A statement with sign-ons, even withdrawn ones, is closed instead; a "
                    "deleted statement's id is never given again."),
]
