"""How fast and how well the coalition responds: /indicators, its CSV, a monthly digest.

For the secretariat. The figures come from the bot's own records
(``handlers.indicator_figures``). Confidential cases are counted only in a direct
message: every member of a room reads what is sent there, a secure room too, and
a count that moves by one beside the same count elsewhere tells of a confidential
case. The digest goes on the first of the month to the rooms that asked for it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, select

from bot.arguments import Args, Option, Param
from bot.commands import Command, CommandError, Role, UsageError
from bot.config import Config
from bot.context import Context
from bot.replies import Line, OutFile, Reply, b, i, item, line
from bot.rooms import Rooms
from handlers.countries import country_param
from handlers.csv_export import csv_file
from handlers.date_range import EARLIEST, LATEST
from handlers.indicator_chart import chart_png
from handlers.indicator_figures import compute
from handlers.reminders import room_ids
from storage.countries import name_of
from storage.models import RoomSetting

PERIOD = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?:\.\.(\d{4})(?:-(\d{1,2}))?)?")
PERIOD_WORDS = "period= takes a year (2026), a month (2026-03) or a range (2026-01..2026-06)"
# In chat, the longest lists (countries, tags, States) stop here; the CSV has them all.
MOST_IN_CHAT = 6


def parse_period(text: str | None, now: datetime,
                 tz: ZoneInfo) -> tuple[datetime, datetime, str]:
    """[start, end) and its words; without ``period=``, the twelve months to now."""
    if not text:
        # Up to now, this very moment included (the end is exclusive).
        return (now - relativedelta(months=12), now + timedelta(microseconds=1),
                f"the 12 months to {now:%-d %b %Y}")
    match = PERIOD.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"{PERIOD_WORDS}, not '{text}'.")
    y1, m1, y2, m2 = match.groups()
    try:
        first = date(int(y1), int(m1 or 1), 1)
        last_year, last_month = (int(y2), int(m2 or 12)) if y2 else (int(y1), int(m1 or 12))
        after = date(last_year, last_month, 1) + relativedelta(months=1)
    except ValueError:
        raise UsageError(f"{PERIOD_WORDS}; months run 1 to 12, not '{text}'.") from None
    if not (EARLIEST <= first < after <= LATEST) or (y2 is not None
                                                      and (m1 is None) != (m2 is None)):
        raise UsageError(f"{PERIOD_WORDS}, from {EARLIEST.year} to {LATEST.year}, its start "
                         f"before its end, not '{text}'.")
    start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(after, datetime.min.time(), tzinfo=tz)
    return start, end, text.strip()


def report(db: Session, *, start: datetime, end: datetime, words: str, country: str | None,
           private: bool, export_command: str | None = None) -> Reply:
    """The table in chat and the chart as the reply's file."""
    figures = compute(db, start=start, end=end, country=country, confidential=private)
    where = f" — {name_of(country)}" if country else ""
    title = f"Indicators{where}, {words}"
    lines: list[Line] = [line(b(title), f": {figures.cases:,} case"
                              f"{'s' if figures.cases != 1 else ''} flagged"
                              if figures.cases >= 5 or figures.cases == 0 else
                              ": fewer than 5 cases flagged")]
    shown: dict[str, int] = defaultdict(int)
    for row in figures.rows[1:]:
        shown[row.indicator] += 1
        if shown[row.indicator] == 1:
            lines.append(line(b(row.indicator)))
        if shown[row.indicator] <= MOST_IN_CHAT:
            lines.append(item(f"{row.measure}: {row.value}"))
        elif shown[row.indicator] == MOST_IN_CHAT + 1:
            lines.append(item(i("… the rest in the CSV")))
    lines.append(line(i("Counts under 5 are shown as <5; shares and medians of fewer than 5 "
                        "cases are not shown.")))
    if not private:
        lines.append(line(i("Confidential cases are left out here; in a direct message with "
                            "me they are counted.")))
    if export_command is not None:
        lines.append(line(f"As CSV: {export_command}"))
    png = chart_png(title, figures.bars)
    slug = words.replace(" ", "-").replace("..", "-to-")
    return Reply(tuple(lines), file=OutFile(f"indicators-{slug}.png", png, "image/png"))


def _arguments(ctx: Context, args: Args) -> tuple[datetime, datetime, str, str | None, str]:
    start, end, words = parse_period(args.opt("period"), ctx.now, ctx.tz)
    country = args.get("country")  # a Country, read by country_param
    hint = " ".join(x for x in (f"period={args.opt('period')}" if args.opt("period") else "",
                                country.name if country else "") if x)
    return start, end, words, country.code if country else None, hint


async def show(ctx: Context, args: Args) -> Reply:
    start, end, words, country, hint = _arguments(ctx, args)
    ctx.audit("indicators.view", country or "all", words)
    return report(ctx.db, start=start, end=end, words=words, country=country,
                  private=ctx.room.is_direct,
                  export_command=f"{ctx.cmd('indicators export')} {hint}".rstrip())


async def export(ctx: Context, args: Args) -> Reply:
    start, end, words, country, _ = _arguments(ctx, args)
    figures = compute(ctx.db, start=start, end=end, country=country,
                      confidential=ctx.room.is_direct)
    rows = [[r.indicator, r.measure, r.value] for r in figures.rows]
    scope = "all cases" if ctx.room.is_direct else "confidential cases left out"
    rows.append(["Notes", "rule", "counts under 5 shown as <5; shares and medians of fewer "
                 f"than 5 cases not shown; {scope}"])
    ctx.audit("indicators.export", country or "all", words)
    name = f"indicators-{(country or 'all').lower()}-{ctx.local(ctx.now):%Y-%m-%d}.csv"
    return Reply.of(f"Indicators, {words}: {len(rows)} rows.",
                    file=csv_file(name, ("indicator", "measure", "value"), rows))


async def monthly(ctx: Context, args: Args) -> Reply:
    if ctx.rooms.room_for(ctx.room.id) is None:
        raise CommandError("The monthly digest goes to the coalition's rooms only, not to a "
                           "direct message.")
    on = args["state"] == "on"
    for room_id in room_ids(ctx):
        setting = ctx.db.get(RoomSetting, room_id) or RoomSetting(room_id=room_id)
        setting.indicators_monthly = on
        ctx.db.add(setting)
    ctx.audit("indicators.monthly", ctx.room.id, args["state"])
    return Reply.text(f"The monthly indicators digest is {args['state']} for {ctx.room.name}"
                      + (": it comes on the first of each month, for the 12 months before."
                         if on else "."))


def monthly_digest(db: Session, config: Config, now: datetime) -> list[tuple[str, Reply]]:
    """For each room that asked: the twelve months to the end of last month, without the
    confidential cases (a room is read by all its members)."""
    wanted = {s.room_id for s in db.exec(select(RoomSetting)
                                         .where(RoomSetting.indicators_monthly == True))}  # noqa: E712
    local = now.astimezone(config.bot.tz)
    end = datetime.combine(local.date().replace(day=1), datetime.min.time(),
                           tzinfo=config.bot.tz)
    start = end - relativedelta(months=12)
    words = f"{start:%b %Y} to {end - relativedelta(days=1):%b %Y}"
    rooms = [room_id for room in Rooms.read(config, db).all for room_id in room.ids
             if room_id in wanted]
    if not rooms:
        return []
    digest = report(db, start=start, end=end, words=words, country=None, private=False)
    return [(room_id, digest) for room_id in rooms]


_COUNTRY = country_param(optional=True)
_PERIOD = Option("period", "2026|2026-01..2026-06")

COMMANDS = [
    Command("indicators", show, "How fast and how well the coalition responds, with a chart",
            params=(_COUNTRY,), options=(_PERIOD,), role=Role.SECRETARIAT, read_only=True,
            example="/indicators period=2026 Egypt",
            details="Without period=, the last 12 months. Counts under 5 show as <5. "
                    "Confidential cases are counted only in a direct message."),
    Command("indicators", export, "The indicators as CSV", sub="export", params=(_COUNTRY,),
            options=(_PERIOD,), role=Role.SECRETARIAT, read_only=True,
            example="/indicators export period=2026-01..2026-06"),
    Command("indicators", monthly, "Send a monthly digest of the indicators to this room",
            sub="monthly", params=(Param("state", choices=("on", "off")),),
            role=Role.SECRETARIAT, example="/indicators monthly on"),
]
