"""The public sign-on page from the chat side: opening it, and reviewing what it receives.

``/statement web S3 on`` gives a statement a page (``bot.web`` serves it); with
``[web].review`` on, each web sign-on waits until ``/signon approve S3 17`` turns it
into a signature, by the same storage function as ``/signon`` (so an organisation
that signed meanwhile is caught, not doubled), or ``/signon reject S3 17`` drops it.
Pending sign-ons are counted apart and never printed in lists or exports; an unlisted
one is named only in a direct message or a secure room.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import deliveries
from bot.arguments import Args, Option, Param
from bot.commands import Command, CommandError, Role
from bot.config import Config
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line, link
from bot.rooms import Rooms
from handlers.countries import name_of
from handlers.signons import totals
from handlers.statement_lookup import STATEMENT_ID, load_statement, sign_ons_closed
from handlers.when import stamp
from storage.statements import WEB, Statement, counts, rooms_of
from storage.web_signons import (
    PENDING,
    WebSignon,
    approve,
    new_page_token,
    pending,
    pending_count,
    reject,
)

PAGE_SIZE = 50
DECIDED = {"approved": "approved", "rejected": "rejected", "duplicate": "found to be a "
           "duplicate (the organisation had signed)", "withdrawn": "withdrawn by its signer"}
NO_WEB = ("This bot serves no web pages: add a [web] table to its config (see "
          "config.example.toml) and restart it.")


async def web_page(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    state = args.get("state")
    if ctx.config.web is None:
        raise CommandError(NO_WEB)
    if state == "on":
        return _open(ctx, statement)
    if state == "off":
        return _close(ctx, statement)
    if statement.web_token is None:
        return Reply.text(f"{statement.code} has no web page. {ctx.cmd('statement web')} "
                          f"{statement.code} on opens one.")
    url = ctx.config.web.page_url(statement.web_token)
    if not statement.web_open:
        state_words = "turned off: it shows \"closed\""
    elif sign_ons_closed(statement, ctx.now):
        state_words = "showing \"closed\" (the statement takes no sign-ons)"
    else:
        state_words = "open"
    signed, _ = counts(ctx.db, statement.key, source=WEB)
    waiting = pending_count(ctx.db, statement.key)
    lines: list[Line] = [
        line(b(f"{statement.code} sign-on page"), f" ({state_words}): ", link(url)),
        line(f"{signed} organisation{'s' if signed != 1 else ''} signed through the web; "
             f"{waiting} wait{'s' if waiting == 1 else ''} for review"
             + (f" ({ctx.cmd('signon pending')} {statement.code})." if waiting else "."))]
    return Reply(tuple(lines))


def _open(ctx: Context, statement: Statement) -> Reply:
    assert ctx.config.web is not None
    if statement.web_open and statement.web_token:
        raise CommandError(f"{statement.code}'s web page is already open: "
                           f"{ctx.config.web.page_url(statement.web_token)}")
    statement.web_token = statement.web_token or new_page_token()
    statement.web_open = True
    ctx.db.add(statement)
    ctx.db.flush()
    ctx.audit("statement.web", statement.code, "on")
    review = (f"each web sign-on waits for approval here ({ctx.cmd('signon pending')} "
              f"{statement.code} lists them)" if ctx.config.web.review
              else "web sign-ons count at once ([web].review is off)")
    lines: list[Line] = [
        line(b(f"{statement.code} sign-on page is open"), ": ",
             link(ctx.config.web.page_url(statement.web_token))),
        line(f"Anyone with this link can sign; {review}.")]
    if sign_ons_closed(statement, ctx.now):
        lines.append(line(i(f"{statement.code} takes no sign-ons now, so the page shows it "
                            "closed until the statement is reopened or its deadline moved.")))
    return Reply(tuple(lines))


def _close(ctx: Context, statement: Statement) -> Reply:
    if not statement.web_open:
        raise CommandError(f"{statement.code} has no open web page.")
    statement.web_open = False
    ctx.db.add(statement)
    ctx.audit("statement.web", statement.code, "off")
    return Reply.text(f"{statement.code}'s web page is closed: it shows \"closed\" and takes "
                      f"nothing. {ctx.cmd('statement web')} {statement.code} on opens it again "
                      "at the same address.")


def _described(ctx: Context, row: WebSignon) -> str:
    """The organisation as the room may read it: an unlisted one only where it is private."""
    if row.unlisted and not ctx.room.private:
        return "an unlisted organisation (named only in a direct message or a secure room)"
    where = f" ({name_of(row.country)})" if row.country else ""
    return f"{row.org_name}{where}" + (" — unlisted" if row.unlisted else "")


async def list_pending(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    rows = pending(ctx.db, statement.key)
    if not rows:
        return Reply.text(f"No web sign-ons wait for review on {statement.code}.")
    page = args.opt("page", 1)
    pages = (len(rows) + PAGE_SIZE - 1) // PAGE_SIZE
    if not 1 <= page <= pages:
        raise CommandError(f"Page {page} does not exist; there {'is' if pages == 1 else 'are'} "
                           f"{pages}.")
    header = (f"{statement.code}: {len(rows)} web sign-on{'s' if len(rows) != 1 else ''} "
              f"wait{'s' if len(rows) == 1 else ''} for review"
              + (f" — page {page} of {pages}" if pages > 1 else ""))
    lines: list[Line] = [line(b(header))]
    for row in rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
        extra = [f"level {row.level}" if row.level else "",
                 f"ECOSOC {row.ecosoc}" if row.ecosoc else ""]
        details = " · ".join(x for x in extra if x)
        lines.append(item(b(str(row.id)), f": {_described(ctx, row)}"
                          + (f" · {details}" if details else "")
                          + f" — sent {stamp(row.submitted_at, ctx.tz)}"))
    lines.append(line(i(f"{ctx.cmd('signon approve')} {statement.code} <number> · "
                        f"{ctx.cmd('signon reject')} {statement.code} <number>")))
    if page < pages:
        lines.append(line(i(f"More: {ctx.cmd('signon pending')} {statement.code} "
                            f"page={page + 1}")))
    return Reply(tuple(lines))


def _pending_row(ctx: Context, statement: Statement, number: int) -> WebSignon:
    row = ctx.db.get(WebSignon, number)
    if row is None or row.statement_id != statement.key:
        raise CommandError(f"There is no web sign-on {number} on {statement.code} "
                           f"({ctx.cmd('signon pending')} {statement.code} lists those waiting).")
    if row.status != PENDING:
        raise CommandError(f"Web sign-on {number} on {statement.code} is not waiting for "
                           f"review: it was {DECIDED.get(row.status, row.status)}.")
    return row


async def approve_signon(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    row = _pending_row(ctx, statement, args["number"])
    signature = approve(ctx.db, row, by=ctx.caller.id, now=ctx.now)
    if signature is None:
        ctx.audit("statement.web.duplicate", statement.code, f"#{row.id}")
        return Reply.text(f"Web sign-on {row.id}: that organisation has signed "
                          f"{statement.code} already, so nothing was added (marked a "
                          "duplicate).")
    ctx.audit("statement.web.approve", statement.code,
              f"#{row.id} " + ("(unlisted)" if row.unlisted else row.org_name))
    return Reply.of(line(f"Approved web sign-on {row.id}: {_described(ctx, row)} signed "
                         f"{statement.code}."),
                    line(f"{totals(*counts(ctx.db, statement.key))} so far."))


async def reject_signon(ctx: Context, args: Args) -> Reply:
    statement = load_statement(ctx, args["id"])
    row = _pending_row(ctx, statement, args["number"])
    reject(ctx.db, row, by=ctx.caller.id, now=ctx.now)
    ctx.audit("statement.web.reject", statement.code,
              f"#{row.id} " + ("(unlisted)" if row.unlisted else row.org_name))
    return Reply.text(f"Rejected web sign-on {row.id} on {statement.code}: "
                      f"{_described(ctx, row)}. Nothing was added; the signer's name and "
                      "e-mail are deleted.")


def notify_rooms(db: Session, config: Config, statement: Statement, row: WebSignon,
                 event: str, now: datetime) -> int:
    """Tell every room that has the statement (where it was opened or announced, where its
    secretariat works) of a web sign-on: ``new`` (to review, or signed when review is off)
    or ``withdrawn`` by its signer. Queued in the outbox in the caller's transaction."""
    rooms, known = rooms_of(db, statement.key), Rooms.read(config, db)
    for room_id in rooms:
        deliveries.enqueue(db, room_id, _notice(db, config, known, statement, row, event, room_id),
                           now=now)
    return len(rooms)


def _notice(db: Session, config: Config, known: Rooms, statement: Statement, row: WebSignon,
            event: str, room_id: str) -> Reply:
    p = config.prefix_for(room_id)
    room = known.room_for(room_id)
    # A room neither the config nor an admin in chat named is a direct message (the bot
    # acts nowhere else).
    private = room is None or room.secure
    if row.unlisted and not private:
        who = (f"an unlisted organisation (named by {p}signon pending {statement.code} in a "
               "direct message or a secure room)" if event == "new" and row.status == PENDING
               else "an unlisted organisation")
    else:
        who = row.org_name + (f" ({name_of(row.country)})" if row.country else "") + (
            " — unlisted" if row.unlisted else "")
    if event == "withdrawn":
        return Reply.of(line(b(f"Web sign-on {row.id} for {statement.code} withdrawn"),
                             f" by its signer: {who}."))
    if row.status == PENDING:
        return Reply.of(line(b(f"New web sign-on for {statement.code}"), f": {who} — "
                             f"{p}signon approve {statement.code} {row.id} · "
                             f"{p}signon reject {statement.code} {row.id}"))
    return Reply.of(line(b(f"New web sign-on for {statement.code}"), f": {who} signed. "
                         f"{totals(*counts(db, statement.key))} so far."))


_ID = STATEMENT_ID
_NUMBER = Param("number", kind="int")

COMMANDS = [
    Command("statement", web_page, "Open or close a statement's public sign-on page, or show "
            "its address and counts", sub="web",
            params=(_ID, Param("state", optional=True, choices=("on", "off"))),
            role=Role.SECRETARIAT, example="/statement web S3 on",
            details="The page takes sign-ons from organisations outside the chat into the "
                    "same list; with review on (the default) each waits for /signon approve."),
    Command("signon", list_pending, "List web sign-ons waiting for review", sub="pending",
            params=(_ID,), options=(Option("page", "N", kind="int"),), role=Role.SECRETARIAT,
            example="/signon pending S3", read_only=True),
    Command("signon", approve_signon, "Approve a web sign-on: it joins the list",
            sub="approve", params=(_ID, _NUMBER), role=Role.SECRETARIAT,
            example="/signon approve S3 17"),
    Command("signon", reject_signon, "Reject a web sign-on", sub="reject",
            params=(_ID, _NUMBER), role=Role.SECRETARIAT, example="/signon reject S3 17"),
]
