"""What the runtime gets from the features: their commands, and the few hooks it calls.

The runtime (service, console, scheduler, command line) never imports a feature
module by name: ``handlers.features()`` hands it one :class:`Features`, so the
arrows run one way, storage <- kernel <- handlers <- runtime (see
tests/test_layers.py). A feature that needs the scheduler or the start-up adds a
hook here and fills it in ``handlers/__init__.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.commands import Registry
from bot.config import Config
from bot.replies import Reply
from bot.rooms import Rooms
from storage.ids import RoomId
from storage.reminders import Reminder
from storage.statements import Statement
from storage.web_signons import WebSignon


@dataclass(frozen=True)
class HistoryGap:
    """Messages sent on ``platform`` from ``start`` (None: not known) until ``end`` that
    will never reach the bot; in one ``room``, or (None) in every room of that network."""

    platform: str
    start: datetime | None
    end: datetime
    room: RoomId | None = None


@dataclass(frozen=True)
class Features:
    registry: Registry
    # Re-derive the reminder rows from the calendar and statements (at start, after an
    # import); True when a row changed.
    replan: Callable[[Session, Config, datetime], bool]
    # The message a due reminder sends; None when what it was about is gone.
    render_reminder: Callable[[Session, Reminder, Config, datetime], Reply | None]
    # The daily list of cases waiting, for secure rooms; None when none wait.
    stale_digest: Callable[[Session, datetime, int], Reply | None]
    # Tell a statement's rooms of a web sign-on ("new" or "withdrawn"): queued in the
    # outbox in the caller's transaction; returns how many rooms were told.
    web_signon_notice: Callable[[Session, Config, Statement, WebSignon, str, datetime], int]
    # The monthly indicators digest: (room id, message) for each room that asked for it.
    monthly_indicators: Callable[[Session, Config, datetime], list[tuple[str, Reply]]]
    # Tell each pair that lost messages on one side, on the other side; the rooms told.
    history_lost: Callable[[Session, Rooms, HistoryGap, Config, datetime], list[RoomId]]
