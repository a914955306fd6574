"""Reminders in chat: what this room will get, switching them, and one-off reminders."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from bot.arguments import Args, Option, Param
from bot.commands import Command, CommandError, Role, UsageError
from bot.context import Context
from bot.replies import Line, Reply, b, i, item, line
from handlers.date_range import check_reminder_time, unreadable_reminder_time
from handlers.reminder_plan import render, rescheduled
from handlers.when import stamp, zone_name, zoned_stamp
from storage import audit, reminders
from storage.models import RoomSetting
from storage.reminders import Reminder

MAX_WHEN_WORDS = 6
PAGE_SIZE = 10
ONE_OFF = "remind:"


def room_ids(ctx: Context) -> tuple[str, ...]:
    """This room's ids on every network: a bridged pair is one room with two ids."""
    room = ctx.rooms.room_for(ctx.room.id)
    return room.ids if room is not None else (ctx.room.id,)


async def show_reminders(ctx: Context, args: Args) -> Reply:
    ids = room_ids(ctx)
    # Due but not yet sent stays listed: the row is still pending, and will go out.
    upcoming = reminders.for_room(ctx.db, ids, status=reminders.PENDING, limit=None)
    page = args.opt("page", 1)
    pages = max(1, -(-len(upcoming) // PAGE_SIZE))
    if not 1 <= page <= pages:
        raise CommandError(f"Page {page} does not exist; there {'is' if pages == 1 else 'are'} "
                           f"{pages}.")
    room = ctx.rooms.room_for(ctx.room.id)
    setting = [ctx.db.get(RoomSetting, i) for i in ids]
    on = next((s.reminders for s in setting if s and s.reminders is not None),
              room.reminders if room else False)
    if on:
        lines: list[Line] = [line(b("Reminders here are on.")), line(
            f"Next ({zone_name(ctx.tz)}):" if upcoming else "Nothing scheduled for this room.")]
    elif upcoming:
        lines = [line(b("Session and deadline reminders here are off; these still go out "
                        f"({zone_name(ctx.tz)}):"))]
    else:
        lines = [line(b("Reminders here are off.")), line("Nothing scheduled for this room.")]
    for row in upcoming[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
        lines.append(item(_reminder_line(ctx, row)))
    if page < pages:
        lines.append(line(i(f"More: {ctx.cmd('reminders')} page={page + 1}")))
    missed = reminders.for_room(ctx.db, ids, status=reminders.MISSED, limit=5)
    if missed and page == 1:
        lines.append(line(b("Missed while the bot was down:")))
        lines += [item(f"{stamp(r.due_at, ctx.tz)} — {r.kind} {r.ref}") for r in missed]
    return Reply(tuple(lines))


def _reminder_line(ctx: Context, row: Reminder) -> str:
    """When, what (its whole first line), and the id that cancels a one-off reminder."""
    reply = render(ctx.db, row, ctx.config, row.due_at)
    first = reply.plain().split("\n")[0] if reply else row.key
    due = " (due, not yet sent)" if row.due_at <= ctx.now else ""
    ref = f"[{row.key.removeprefix(ONE_OFF)}] " if row.key.startswith(ONE_OFF) else ""
    return f"{ref}{stamp(row.due_at, ctx.tz)}{due} — {first}"


async def reminders_on(ctx: Context, args: Args) -> Reply:
    return await switch(ctx, "on")


async def reminders_off(ctx: Context, args: Args) -> Reply:
    return await switch(ctx, "off")


async def switch(ctx: Context, state: str) -> Reply:
    if ctx.rooms.room_for(ctx.room.id) is None:
        raise CommandError("Scheduled reminders go to the coalition's rooms only: the config's, "
                           f"and those an admin allowed with {ctx.cmd('room allow')}.")
    on = state == "on"
    for room_id in room_ids(ctx):
        setting = ctx.db.get(RoomSetting, room_id) or RoomSetting(room_id=room_id)
        setting.reminders = on
        ctx.db.add(setting)
    ctx.db.flush()
    rescheduled(ctx)
    ctx.audit("reminders." + state, ctx.room.id)
    return Reply.text(f"Reminders are {state} for {ctx.room.name}"
                      + (" (both sides of the bridge)." if len(room_ids(ctx)) > 1 else "."))


# Words that give a time of day, or a distance in hours: anything else names a day,
# and a day alone means the reminder hour (09:00), whatever the clock says now.
TIME_OF_DAY = re.compile(r"\d:\d|\d\s*(am|pm)\b"
                         r"|\b(noon|midnight|hours?|minutes?|mins?|h)\b", re.IGNORECASE)
# 1.12. or 1.12.2026, as Geneva writes a date; dateparser would read "1.12" as 01:12.
DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})(\.(\d{2,4})?)?")


def _slashed(word: str, order: str, *, first: bool) -> str:
    """A dotted date as slashes, which dateparser reads in ``order``; "9.30" (and any
    two-part form after the first word) is a time of day, 9:30."""
    match = DOTTED_DATE.fullmatch(word)
    if match is None:
        return word
    a, b = int(match.group(1)), int(match.group(2))
    day, month = (a, b) if order == "DMY" else (b, a)
    if (match.group(3) is None and not first) or not (1 <= day <= 31 and 1 <= month <= 12):
        two_digit_minutes = len(match.group(2)) == 2 and match.group(3) is None
        return f"{a}:{match.group(2)}" if two_digit_minutes and a < 24 and b < 60 else word
    return f"{match.group(1)}/{match.group(2)}" + (f"/{match.group(4)}" if match.group(4)
                                                    else "")


def parse_when(text: str, ctx: Context) -> tuple[datetime, str]:
    """Split "<when> <text>": the longest leading words that read as a time.

    dateparser is imported at the first reminder, not at start: its import is 0.18 s of
    the bot's start, and its first parse loads its language data at that moment anyway."""
    import dateparser

    order = ctx.config.bot.date_order
    typed = text.split()  # the reminder's text is kept as typed
    words = [_slashed(w, order, first=n == 0) for n, w in enumerate(typed)]
    settings = {"TIMEZONE": str(ctx.tz), "RETURN_AS_TIMEZONE_AWARE": True,
                "PREFER_DATES_FROM": "future", "DATE_ORDER": order,
                "RELATIVE_BASE": ctx.local(ctx.now).replace(tzinfo=None)}
    for n in range(min(MAX_WHEN_WORDS, len(words)), 0, -1):
        phrase = " ".join(words[:n])
        try:
            when = dateparser.parse(phrase, languages=["en"], settings=settings)
        except OverflowError:  # "0001-01-01" in a time zone ahead of UTC
            raise unreadable_reminder_time(ctx.now, ctx.tz) from None
        if when is None:
            continue
        if not TIME_OF_DAY.search(phrase):
            send = ctx.config.reminders.send_time
            when = when.replace(hour=send.hour, minute=send.minute)
        if n == len(words):
            raise UsageError(f"Remind of what? I read {zoned_stamp(when, ctx.tz)}; add the "
                             f"text: {ctx.cmd('remind')} {phrase} <text>")
        return when.replace(second=0, microsecond=0), " ".join(typed[n:])
    raise UsageError("I could not read when. Try 2026-12-01 09:00, in 3 days, tomorrow 9:00 "
                     "or next monday, followed by the text.")


async def remind(ctx: Context, args: Args) -> Reply:
    when, text = parse_when(args["text"], ctx)
    if when <= ctx.now:
        raise CommandError(f"{stamp(when, ctx.tz)} is in the past; give a time to come.")
    check_reminder_time(when, ctx.now, ctx.tz)
    if len(text) > 1000:
        raise CommandError("Keep the reminder under 1,000 characters.")
    row = Reminder(key=_new_key(ctx), kind="remind", due_at=when,
                   targets=" ".join(room_ids(ctx)), text=text,
                   created_by=ctx.caller.name or ctx.caller.id)
    ctx.db.add(row)
    ctx.changes.add("schedule")
    ctx.audit("remind.add", row.key, f"due {stamp(when, ctx.tz)}")
    return Reply.of(line("I will remind this room on ", b(zoned_stamp(when, ctx.tz)), f": {text}"))


def _new_key(ctx: Context) -> str:
    """``remind:3fa9c2``: short enough to type in ``/remind cancel``, and never reused."""
    while True:
        key = ONE_OFF + secrets.token_hex(3)
        if ctx.db.get(Reminder, key) is None:
            return key


async def cancel_reminder(ctx: Context, args: Args) -> Reply:
    ref = args["id"].lower().removeprefix(ONE_OFF)
    row = ctx.db.get(Reminder, ONE_OFF + ref)
    if (row is None or row.status != reminders.PENDING
            or not set(row.rooms) & set(room_ids(ctx))):
        raise CommandError(f"There is no pending reminder {ref} in this room; "
                           f"{ctx.cmd('reminders')} shows their ids.")
    setters = {e.actor_id for e in audit.recent(ctx.db, 1, target=row.key)}
    if ctx.caller.role < Role.SECRETARIAT and ctx.caller.id not in setters:
        raise CommandError("Only whoever set a reminder, or the secretariat, can cancel it.")
    row.status = reminders.CANCELLED
    ctx.db.add(row)
    ctx.changes.add("schedule")
    ctx.audit("remind.cancel", row.key)
    return Reply.text(f"Cancelled the reminder of {stamp(row.due_at, ctx.tz)}: {row.text}")


COMMANDS = [
    Command("reminders", show_reminders, "What this room will be reminded of next, and what "
            "was missed", options=(Option("page", "N", kind="int"),), read_only=True,
            details="One-off reminders show their id in brackets, for /remind cancel."),
    Command("reminders", reminders_on, "Send scheduled reminders to this room", sub="on",
            role=Role.SECRETARIAT),
    Command("reminders", reminders_off, "Stop scheduled reminders in this room", sub="off",
            role=Role.SECRETARIAT),
    Command("remind", remind, "Set a one-off reminder for this room",
            params=(Param("text", kind="text"),), usage_text="<when> <text>",
            example="/remind tomorrow 9:00 Call the Special Rapporteur's office",
            details="<when>: 2026-12-01 09:00, 12/01 9:00, in 3 days, tomorrow 9:00, next "
                    "monday (in the coalition's time zone). A day without a time means "
                    "09:00; numeric dates follow [bot].date_order (DMY: 12/01 is 12 "
                    "January)."),
    Command("remind", cancel_reminder, "Cancel a one-off reminder of this room", sub="cancel",
            params=(Param("id"),), example="/remind cancel 3fa9c2",
            details="The id is in brackets in /reminders. Whoever set the reminder, or the "
                    "secretariat, can cancel it."),
]
