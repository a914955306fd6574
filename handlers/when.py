"""Dates in words and dates from words, always in the coalition's time zone."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.commands import CommandError
from handlers.date_range import check_moment


def parse_deadline(value: str, tz: ZoneInfo, *, key: str = "deadline") -> datetime:
    """``2026-12-01`` (end of that day) or ``2026-12-01T17:00``, local time -> aware UTC-able."""
    try:
        if "T" in value or " " in value:
            moment = datetime.fromisoformat(value)
        else:
            moment = datetime.combine(date.fromisoformat(value), time(23, 59))
    except ValueError:
        raise CommandError(f"{key}= must be a date like 2026-12-01 or 2026-12-01T17:00, not "
                           f"'{value}'.") from None
    check_moment(moment, f"{key}=")
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def days_between(now: datetime, later: datetime, tz: ZoneInfo) -> int:
    """Calendar days from ``now`` to ``later`` as a person in ``tz`` counts them."""
    return (later.astimezone(tz).date() - now.astimezone(tz).date()).days


def closes_in(deadline: datetime, now: datetime, tz: ZoneInfo, *, verb: str = "closes") -> str:
    """"closes today at 17:00", "closes tomorrow", "closes in 2 days", "closed on 1 Dec"."""
    local = deadline.astimezone(tz)
    if deadline <= now:
        past = {"closes": "closed", "opens": "opened", "is due": "was due"}.get(verb, verb)
        return f"{past} on {local:%-d %b %Y}"
    days = days_between(now, deadline, tz)
    if days == 0:
        return f"{verb} today at {local:%H:%M}"
    if days == 1:
        return f"{verb} tomorrow at {local:%H:%M}"
    return f"{verb} in {days} days"


def stamp(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 1 Dec 2026, 23:59`` in the coalition's time zone."""
    return f"{moment.astimezone(tz):%a %-d %b %Y, %H:%M}"


def zone_name(tz: ZoneInfo) -> str:
    """A readable name of the zone: ``Europe/Zurich`` -> "Zurich time", ``UTC`` -> "UTC"."""
    key = str(tz)
    if "/" not in key:
        return key
    return key.rsplit("/", 1)[1].replace("_", " ") + " time"


def zoned_stamp(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 1 Dec 2026, 09:00 Zurich time``: where a reader may be elsewhere."""
    return f"{stamp(moment, tz)} {zone_name(tz)}"


def sentence(text: str) -> str:
    """Capitalise the first letter only ("closes on 4 Dec" -> "Closes on 4 Dec")."""
    return text[:1].upper() + text[1:]
