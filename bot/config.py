"""Configuration: one TOML file read with ``tomllib`` into typed, validated objects.

A bad config stops the program at start with a message naming the file, the
key and what is wrong, for every problem at once (``bot.config_reader``).
Secrets (tokens, passwords) may come from environment variables and are
excluded from ``repr`` so they never reach a log line.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config_networks import MatrixConfig as MatrixConfig
from bot.config_networks import RoomConfig as RoomConfig
from bot.config_networks import TelegramConfig as TelegramConfig
from bot.config_networks import read_matrix, read_rooms, read_telegram
from bot.config_reader import ConfigError, Problems
from bot.config_reader import ConfigErrors as ConfigErrors  # raised by parse_config
from bot.config_reader import Section as _Section
from bot.config_web import KEYS as WEB_KEYS
from bot.config_web import WebConfig, read_web
from storage.crypto import DataKeyError, parse_keys
from storage.ids import UserId

USER_ID = re.compile(r"telegram:\d{1,20}|matrix:@[^:\s]+:\S+|console:\S+")
DATE_ORDERS = ("DMY", "MDY", "YMD")
# Where people write numeric dates month first or year first; everywhere else
# (Europe, Africa, most of the Americas and Asia) writes 12/01 for 12 January.
MDY_ZONES = re.compile(r"America/(New_York|Chicago|Denver|Los_Angeles|Phoenix|Anchorage|"
                       r"Detroit|Boise|Juneau|Indiana/.+|Kentucky/.+|North_Dakota/.+)"
                       r"|US/.+|Pacific/Honolulu")
YMD_ZONES = re.compile(r"Asia/(Shanghai|Tokyo|Seoul|Taipei|Pyongyang|Ulaanbaatar)")


def default_date_order(timezone: str) -> str:
    """The numeric date order of the time zone's region: DMY unless it is known otherwise."""
    if MDY_ZONES.fullmatch(timezone):
        return "MDY"
    return "YMD" if YMD_ZONES.fullmatch(timezone) else "DMY"


@dataclass(frozen=True)
class BotConfig:
    timezone: str = "Europe/Zurich"
    database_url: str = "sqlite:///caucus.db"
    admins: tuple[UserId, ...] = ()
    command_prefixes: tuple[str, ...] = ("/", "!")
    display_name: str = "Caucus Bot"
    # How numbers like 12/01 read: DMY (12 January), MDY (1 December) or YMD.
    date_order: str = "DMY"
    # "text" (for people) or "json" (one object a line, for log collectors).
    log_format: str = "text"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class RemindersConfig:
    session_offsets_days: tuple[int, ...] = (30, 14, 7, 1)
    deadline_offsets_days: tuple[int, ...] = (7, 2, 0)
    send_time: time = time(9, 0)
    grace_hours: float = 6.0


@dataclass(frozen=True)
class CasesConfig:
    stale_days: int = 3


@dataclass(frozen=True)
class StatementsConfig:
    nudge_days: tuple[int, ...] = (2, 0)


@dataclass(frozen=True)
class PrivacyConfig:
    """What the database keeps, and how: the data key and the retention periods.

    ``data_key`` (``CAUCUS_DATA_KEY`` or the contents of ``key_file``) is one or more
    comma-separated keys, newest first: the first encrypts, all of them decrypt.
    Each was checked to be a key when the config was read.
    """

    data_key: str | None = field(default=None, repr=False)
    key_file: str | None = None
    key_from_env: bool = False
    relay_retention_days: int = 7
    # Days a message link (which message is which across the bridge) is kept: replies,
    # edits, redactions and /delete of older messages no longer find the other copy.
    link_retention_days: int = 180
    closed_case_retention_days: int | None = None
    # Days after a statement's deadline (after the sign-on, without one) when a web
    # signer's name and e-mail are dropped.
    web_signer_retention_days: int = 90


@dataclass(frozen=True)
class MetricsConfig:
    """Where ``/healthz`` and ``/metrics`` are served (bot/web/health.py)."""

    listen: str = "127.0.0.1"
    port: int = 9120


@dataclass(frozen=True)
class Config:
    bot: BotConfig = field(default_factory=BotConfig)
    telegram: TelegramConfig | None = None
    matrix: MatrixConfig | None = None
    rooms: tuple[RoomConfig, ...] = ()
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    cases: CasesConfig = field(default_factory=CasesConfig)
    statements: StatementsConfig = field(default_factory=StatementsConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    web: WebConfig | None = None  # None: no public sign-on pages
    metrics: MetricsConfig | None = None  # no [metrics] table: no health or metrics server
    source: str = "(defaults)"

    def room_for(self, canonical_room_id: str) -> RoomConfig | None:
        for room in self.rooms:
            if canonical_room_id in room.ids:
                return room
        return None

    def rooms_in_chat(self, chat_id: int) -> tuple[RoomConfig, ...]:
        """The entries of a Telegram group: the whole group, and topics paired on their own."""
        return tuple(r for r in self.rooms if r.telegram_chat_id == chat_id)

    def room_named(self, name: str) -> RoomConfig | None:
        return next((r for r in self.rooms if r.name.lower() == name.lower()), None)

    def prefix_for(self, room_id: str) -> str:
        """The prefix to show in a message to a room: "!" on Matrix, where Element swallows
        unknown "/" commands (when "!" is a prefix at all), else the first one."""
        prefixes = self.bot.command_prefixes
        return "!" if room_id.startswith("matrix:") and "!" in prefixes else prefixes[0]


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate a config file; raises :class:`ConfigError`."""
    path = Path(path)
    source = path.name
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "(syntax)", f"not valid TOML: {exc}") from None
    return parse_config(data, source=source, env=os.environ if env is None else env)


def parse_config(data: Mapping[str, Any], *, source: str = "config.toml",
                 env: Mapping[str, str] | None = None) -> Config:
    """Check every key; raises :class:`ConfigErrors` listing every problem found."""
    env = {} if env is None else env
    problems = Problems()

    def section(name: str, key: str, known: set[str]) -> _Section:
        return _Section(source, name, data.get(key, {}), known, problems)

    # Constructed for its check alone: an unknown top-level table is a typo to report.
    _Section(source, "(top level)", data,
             {"bot", "telegram", "matrix", "rooms", "reminders", "cases", "statements",
              "privacy", "web", "metrics"}, problems)
    bot = _bot(section("[bot]", "bot", {"timezone", "database_url", "admins",
                                        "command_prefixes", "display_name", "date_order",
                                        "log_format"}))
    telegram = (read_telegram(source, data["telegram"], env, problems)
                if "telegram" in data else None)
    matrix = read_matrix(source, data["matrix"], env, problems) if "matrix" in data else None
    rooms = read_rooms(source, data.get("rooms", []), problems)
    reminders = _reminders(section("[reminders]", "reminders",
                                   {"session_offsets_days", "deadline_offsets_days",
                                    "send_time", "grace_hours"}))
    cases = _cases(section("[cases]", "cases", {"stale_days"}))
    statements = StatementsConfig(nudge_days=section(
        "[statements]", "statements", {"nudge_days"}).int_list("nudge_days", (2, 0)))
    privacy = _privacy(section("[privacy]", "privacy", {"key_file", "relay_retention_days",
                                                        "link_retention_days",
                                                        "closed_case_retention_days",
                                                        "web_signer_retention_days"}), env)
    web = read_web(section("[web]", "web", WEB_KEYS)) if "web" in data else None
    metrics = _metrics(section("[metrics]", "metrics", {"listen", "port"})) \
        if "metrics" in data else None
    problems.raise_any()
    return Config(bot=bot, telegram=telegram, matrix=matrix, rooms=rooms, reminders=reminders,
                  cases=cases, statements=statements, privacy=privacy, web=web,
                  metrics=metrics, source=source)


def _bot(s: _Section) -> BotConfig:
    tz = s.text("timezone", "Europe/Zurich")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        s.fail("timezone", f"unknown time zone '{tz}' (use an IANA name such as Europe/Zurich)")
        tz = "Europe/Zurich"
    url = s.text("database_url", "sqlite:///caucus.db")
    try:
        make_url(url)
    except ArgumentError:
        s.fail("database_url", "is not an SQLAlchemy URL (e.g. sqlite:///caucus.db or "
                               "postgresql+psycopg://user@host/db)")
    admins = s.get("admins", list, [])
    for n, admin in enumerate(admins):
        if not isinstance(admin, str) or not USER_ID.fullmatch(admin):
            s.problems.at(s.source, f"[bot].admins[{n}]",
                          f"{admin!r} is not a user id; expected telegram:<numeric user id> "
                          "or matrix:@user:server")
    prefixes = s.get("command_prefixes", list, ["/", "!"])
    if not prefixes or not all(isinstance(p, str) and len(p) == 1 and not p.isalnum()
                               and not p.isspace() for p in prefixes):
        s.fail("command_prefixes", 'must be a list of single punctuation characters, '
                                   'e.g. ["/", "!"]')
    order = s.text("date_order", default_date_order(tz)).upper()
    if order not in DATE_ORDERS:
        s.fail("date_order", f"must be DMY, MDY or YMD, not '{order}'")
    log_format = s.text("log_format", "text")
    if log_format not in ("text", "json"):
        s.fail("log_format", f"must be 'text' or 'json', not '{log_format}'")
    return BotConfig(
        timezone=tz, database_url=url, admins=tuple(UserId(a) for a in admins),
        command_prefixes=tuple(prefixes),
        display_name=s.text("display_name", "Caucus Bot", required=True), date_order=order,
        log_format=log_format,
    )


def _metrics(s: _Section) -> MetricsConfig:
    port = s.get("port", int, 9120)
    if not 0 < port < 65536:
        s.fail("port", "must be a port number from 1 to 65535")
    return MetricsConfig(listen=s.text("listen", "127.0.0.1", required=True), port=port)


def _reminders(s: _Section) -> RemindersConfig:
    raw_time = s.text("send_time", "09:00")
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw_time)
    if not match:
        s.fail("send_time", f"'{raw_time}' is not a time of day like 09:00")
    grace = s.get("grace_hours", (int, float), 6)
    if grace < 0:
        s.fail("grace_hours", "must be 0 or more")
    return RemindersConfig(
        session_offsets_days=s.int_list("session_offsets_days", (30, 14, 7, 1)),
        deadline_offsets_days=s.int_list("deadline_offsets_days", (7, 2, 0)),
        send_time=time(int(match.group(1)), int(match.group(2))) if match else time(9, 0),
        grace_hours=float(grace),
    )


def _cases(s: _Section) -> CasesConfig:
    stale = s.get("stale_days", int, 3)
    if stale < 1:
        s.fail("stale_days", "must be 1 or more")
    return CasesConfig(stale_days=stale)


def _privacy(s: _Section, env: Mapping[str, str]) -> PrivacyConfig:
    key_file = s.text("key_file")
    data_key = env.get("CAUCUS_DATA_KEY") or None
    if data_key is None and key_file is not None:
        try:
            data_key = Path(key_file).expanduser().read_text().strip() or None
            if data_key is None:
                s.fail("key_file", "is empty; write a key from `caucus-bot keys new` into it")
        except OSError as exc:
            s.fail("key_file", f"cannot be read: {exc.strerror}")
    if data_key is not None:
        try:
            parse_keys(data_key)
        except DataKeyError as exc:  # its message never repeats the key
            if env.get("CAUCUS_DATA_KEY"):
                s.problems.at(s.source, "CAUCUS_DATA_KEY", str(exc))
            else:
                s.fail("key_file", f"{key_file}: {exc}")
            data_key = None
    relay_days = s.get("relay_retention_days", int, 7)
    if relay_days < 1:
        s.fail("relay_retention_days", "must be 1 or more (replies and edits need the text of "
                                       "recent messages)")
    link_days = s.get("link_retention_days", int, 180)
    if link_days < 1:
        s.fail("link_retention_days", "must be 1 or more (a large number keeps the links "
                                      "of old messages longer)")
        link_days = 180
    closed_days = s.get("closed_case_retention_days", int)
    if closed_days is not None and closed_days < 1:
        s.fail("closed_case_retention_days", "must be 1 or more; leave it out to keep the "
                                             "details of closed cases")
    signer_days = s.get("web_signer_retention_days", int, 90)
    if signer_days < 1:
        s.fail("web_signer_retention_days", "must be 1 or more")
        signer_days = 90
    return PrivacyConfig(data_key=data_key, key_file=key_file, relay_retention_days=relay_days,
                         link_retention_days=link_days,
                         closed_case_retention_days=closed_days,
                         web_signer_retention_days=signer_days,
                         key_from_env=bool(env.get("CAUCUS_DATA_KEY")))
