"""Never a silent gap: when messages of one side of a pair can no longer reach the bot,
the other side is told, once, with the times in the coalition's time zone.

Telegram keeps a bot's undelivered messages for about a day; a Matrix gap longer
than the bot fetches at once is cut. The adapters notice (``bot.history_gaps``); this
says it, in each affected pair's other room, as one notice per gap.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import deliveries
from bot.config import Config
from bot.features import HistoryGap
from bot.replies import Reply, b, line
from bot.rooms import Rooms
from handlers.when import stamp, zone_name
from storage.ids import RoomId, platform_of

NETWORK = {"telegram": ("Telegram", "group"), "matrix": ("Matrix", "room")}
WHY = {"telegram": "Telegram keeps a bot's messages for about a day, and the bot was away "
                   "longer",
       "matrix": "more were sent while the bot was away than it fetches at once"}


def notice(gap: HistoryGap, config: Config) -> Reply:
    network, kind = NETWORK.get(gap.platform, (gap.platform, "room"))
    tz = config.bot.tz
    span = (f"between {stamp(gap.start, tz)} and {stamp(gap.end, tz)}" if gap.start is not None
            else f"until {stamp(gap.end, tz)}")
    return Reply.of(line(b(f"Messages sent on {network} {span} ({zone_name(tz)}) could not be "
                           "relayed"), f": {WHY.get(gap.platform, 'they were lost')}. Read "
                         f"them in the {network} {kind}."))


def history_lost(db: Session, rooms: Rooms, gap: HistoryGap, config: Config,
                 now: datetime) -> list[RoomId]:
    """One notice for each pair with a room in the gap, on its other side."""
    told: list[RoomId] = []
    reply = notice(gap, config)
    for pair in rooms.pairs:
        missed = [r for r in pair.ids if platform_of(r) == gap.platform
                  and (gap.room is None or r == gap.room)]
        if not missed:
            continue
        target = next(r for r in pair.ids if r != missed[0])
        key = f"history:{missed[0]}:{(gap.start or gap.end):%Y%m%dT%H%M%S}"
        if deliveries.enqueue(db, target, reply, now=now, dedupe_key=key) is not None:
            told.append(target)
    return told
