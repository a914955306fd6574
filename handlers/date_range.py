"""The range of dates a command accepts: one check and one message for every command.

A date far from today is a typo (0001-01-01, 9999-12-31), and near the ends of Python's
calendar a time-zone offset or "the day after" overflows: such a date crashed the
command, or, once stored, every ``/calendar`` after it. Commands read dates their own
way (``handlers.when``, ``handlers.calendar``, ``handlers.cases``, ``handlers.reminders``)
and all pass them through here before anything is stored.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.commands import CommandError

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
RANGE_WORDS = f"between {EARLIEST.year} and {LATEST.year}"
REMINDER_YEARS = 5


def check_date(day: date, what: str) -> date:
    """``day`` if sessions, deadlines, statements and cases may carry it, else a refusal."""
    if not EARLIEST <= day <= LATEST:
        raise CommandError(f"{what} must be a date {RANGE_WORDS}, not {day.isoformat()}.")
    return day


def check_moment(moment: datetime, what: str) -> datetime:
    """The same check for a moment, on the date as typed (before any offset moves it)."""
    check_date(moment.date(), what)
    return moment


def reminder_horizon(now: datetime) -> datetime:
    """The latest moment a reminder may be set for: ``REMINDER_YEARS`` from ``now``."""
    try:
        return now.replace(year=now.year + REMINDER_YEARS)
    except ValueError:  # 29 February
        return now.replace(year=now.year + REMINDER_YEARS, day=28)


def check_reminder_time(when: datetime, now: datetime, tz: ZoneInfo) -> datetime:
    """``when`` if it is to come and within ``REMINDER_YEARS``, else a refusal with the range."""
    latest = reminder_horizon(now)
    if when > latest:
        raise CommandError(f"A reminder must be within {REMINDER_YEARS} years: from now to "
                           f"{latest.astimezone(tz):%-d %b %Y}.")
    return when


def unreadable_reminder_time(now: datetime, tz: ZoneInfo) -> CommandError:
    """The refusal for a time so far off that reading it overflows the calendar."""
    return CommandError(f"That time is out of range: a reminder must be within "
                        f"{REMINDER_YEARS} years, from now to "
                        f"{reminder_horizon(now).astimezone(tz):%-d %b %Y}.")
