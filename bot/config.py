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

from bot.config_reader import ConfigError, Problems
from bot.config_reader import ConfigErrors as ConfigErrors  # raised by parse_config
from bot.config_reader import Section as _Section
from bot.config_web import KEYS as WEB_KEYS
from bot.config_web import WebConfig, read_web
from storage.crypto import DataKeyError, parse_keys
from storage.ids import RoomId, UserId, room_id_for, telegram_room_id

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
USER_ID = re.compile(r"telegram:\d{1,20}|matrix:@[^:\s]+:\S+|console:\S+")
# Room versions before 12 end in ":server"; v12 room ids are a bare hash ("!abc...").
MATRIX_ROOM_ID = re.compile(r"![^:\s]+(:\S+)?")
TELEGRAM_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{10,}")
DATE_ORDERS = ("DMY", "MDY", "YMD")
# Where people write numeric dates month first or year first; everywhere else
# (Europe, Africa, most of the Americas and Asia) writes 12/01 for 12 January.
MDY_ZONES = re.compile(r"America/(New_York|Chicago|Denver|Los_Angeles|Phoenix|Anchorage|"
                       r"Detroit|Boise|Juneau|Indiana/.+|Kentucky/.+|North_Dakota/.+)"
                       r"|US/.+|Pacific/Honolulu")
YMD_ZONES = re.compile(r"Asia/(Shanghai|Tokyo|Seoul|Taipei|Pyongyang|Ulaanbaatar)")
# config.example.toml's stand-ins: a config that still holds one was copied, not filled in.
PLACEHOLDER_MARK = "replace-with"
PLACEHOLDER_CHAT_IDS = {-1001234567890}
PLACEHOLDER_ROOM_IDS = {"!AbCdEfGhIjKl:example.org", "!SecretariatRoom:example.org"}
PLACEHOLDER = "is the example file's placeholder"


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
class TelegramConfig:
    token: str = field(repr=False)
    base_url: str = DEFAULT_TELEGRAM_BASE_URL
    base_file_url: str | None = None
    mode: str = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    token_from_env: bool = False


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    access_token: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    device_id: str | None = None
    store_path: str = "matrix-store"
    verify_devices: bool = False
    secret_from_env: bool = False


@dataclass(frozen=True)
class RoomConfig:
    name: str
    telegram_chat_id: int | None = None
    matrix_room_id: str | None = None
    secure: bool = False
    reminders: bool = True
    # One forum topic of the group, paired on its own: the room is that topic alone.
    telegram_topic_id: int | None = None
    # Allowed or paired by an admin in chat (``bot.rooms``), not written in the config.
    from_chat: bool = False

    @property
    def ids(self) -> tuple[RoomId, ...]:
        """Canonical ids of this room on each network it lives on."""
        out = []
        if self.telegram_chat_id is not None:
            out.append(telegram_room_id(self.telegram_chat_id, self.telegram_topic_id))
        if self.matrix_room_id is not None:
            out.append(room_id_for("matrix", self.matrix_room_id))
        return tuple(out)

    @property
    def bridged(self) -> bool:
        return len(self.ids) == 2


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
    telegram = _telegram(source, data["telegram"], env, problems) if "telegram" in data else None
    matrix = _matrix(source, data["matrix"], env, problems) if "matrix" in data else None
    rooms = _rooms(source, data.get("rooms", []), problems)
    reminders = _reminders(section("[reminders]", "reminders",
                                   {"session_offsets_days", "deadline_offsets_days",
                                    "send_time", "grace_hours"}))
    cases = _cases(section("[cases]", "cases", {"stale_days"}))
    statements = StatementsConfig(nudge_days=section(
        "[statements]", "statements", {"nudge_days"}).int_list("nudge_days", (2, 0)))
    privacy = _privacy(section("[privacy]", "privacy", {"key_file", "relay_retention_days",
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


def _telegram(source: str, data: Any, env: Mapping[str, str],
              problems: Problems) -> TelegramConfig:
    s = _Section(source, "[telegram]", data,
                 {"token", "base_url", "base_file_url", "mode", "webhook_url", "webhook_listen",
                  "webhook_port", "webhook_secret"}, problems)
    from_env = bool(env.get("CAUCUS_TELEGRAM_TOKEN"))
    token = env.get("CAUCUS_TELEGRAM_TOKEN") or s.text("token")

    def fail_token(problem: str) -> None:
        # Blame where the token came from: the environment wins over the file.
        if from_env:
            problems.at("environment", "CAUCUS_TELEGRAM_TOKEN", problem)
        else:
            s.fail("token", problem)

    if not token:
        s.fail("token", "is required (or set CAUCUS_TELEGRAM_TOKEN)")
    elif PLACEHOLDER_MARK in token:
        fail_token(f"{PLACEHOLDER}; put the token from BotFather here or in "
                   "CAUCUS_TELEGRAM_TOKEN")
    elif not TELEGRAM_TOKEN.fullmatch(token):
        fail_token("does not look like a BotFather token (<digits>:<letters>)")
    mode = s.text("mode", "polling")
    if mode not in ("polling", "webhook"):
        s.fail("mode", f"must be 'polling' or 'webhook', not '{mode}'")
    webhook_url = s.url("webhook_url", required=mode == "webhook")
    port = s.get("webhook_port", int, 8443)
    if not 0 < port < 65536:
        s.fail("webhook_port", "must be a port number from 1 to 65535")
    return TelegramConfig(
        token=token or "", base_url=s.url("base_url", DEFAULT_TELEGRAM_BASE_URL),
        base_file_url=s.url("base_file_url"), mode=mode, webhook_url=webhook_url,
        webhook_listen=s.text("webhook_listen", "127.0.0.1"), webhook_port=port,
        webhook_secret=s.text("webhook_secret"), token_from_env=from_env,
    )


def _matrix(source: str, data: Any, env: Mapping[str, str], problems: Problems) -> MatrixConfig:
    s = _Section(source, "[matrix]", data,
                 {"homeserver", "user_id", "access_token", "password", "device_id", "store_path",
                  "verify_devices"}, problems)
    homeserver = s.url("homeserver", required=True)
    user_id = s.text("user_id", required=True)
    if user_id and not re.fullmatch(r"@[^:\s]+:\S+", user_id):
        s.fail("user_id", f"'{user_id}' is not a Matrix user id like @caucusbot:example.org")
    env_token = env.get("CAUCUS_MATRIX_ACCESS_TOKEN")
    access_token = env_token or s.text("access_token")
    password = env.get("CAUCUS_MATRIX_PASSWORD") or s.text("password")
    if not access_token and not password:
        s.fail("access_token", "an access_token or a password is required (or set "
                               "CAUCUS_MATRIX_ACCESS_TOKEN / CAUCUS_MATRIX_PASSWORD)")
    for key, value in (("access_token", access_token), ("password", password)):
        if value and PLACEHOLDER_MARK in value:
            where = ("CAUCUS_MATRIX_ACCESS_TOKEN" if key == "access_token" and env_token
                     else "CAUCUS_MATRIX_PASSWORD" if key == "password"
                     and env.get("CAUCUS_MATRIX_PASSWORD") else None)
            if where:
                problems.at("environment", where, PLACEHOLDER)
            else:
                s.fail(key, f"{PLACEHOLDER}; put the bot account's {key.replace('_', ' ')} "
                            "here or in the environment")
    return MatrixConfig(
        homeserver=homeserver or "", user_id=user_id or "", access_token=access_token,
        password=password, device_id=s.text("device_id"),
        store_path=s.text("store_path", "matrix-store"),
        verify_devices=s.get("verify_devices", bool, False),
        secret_from_env=bool(env_token or env.get("CAUCUS_MATRIX_PASSWORD")),
    )


def _rooms(source: str, data: Any, problems: Problems) -> tuple[RoomConfig, ...]:
    if not isinstance(data, list):
        problems.at(source, "[[rooms]]", "must be an array of tables ([[rooms]])")
        return ()
    rooms: list[RoomConfig] = []
    seen_ids: dict[str, str] = {}
    for n, raw in enumerate(data):
        s = _Section(source, f"[[rooms]][{n}]", raw,
                     {"name", "telegram_chat_id", "telegram_topic_id", "matrix_room_id", "secure",
                      "reminders"},
                     problems)
        room = _room(s, rooms, seen_ids)
        if room is not None:
            rooms.append(room)
    return tuple(rooms)


def _room(s: _Section, rooms: list[RoomConfig], seen_ids: dict[str, str]) -> RoomConfig | None:
    name = s.text("name", required=True) or ""
    chat_id = s.get("telegram_chat_id", (int, str))
    if isinstance(chat_id, str):
        if re.fullmatch(r"-?\d+", chat_id):
            chat_id = int(chat_id)
        else:
            s.fail("telegram_chat_id", f"'{chat_id}' is not a numeric chat id (groups look "
                                       "like -1001234567890)")
            chat_id = None
    if chat_id in PLACEHOLDER_CHAT_IDS:
        s.fail("telegram_chat_id", f"{PLACEHOLDER}; use your group's id (/whoami in the group "
                                   "shows it)")
    topic = _topic(s, chat_id)
    matrix_id = s.text("matrix_room_id")
    if matrix_id is not None and not MATRIX_ROOM_ID.fullmatch(matrix_id):
        s.fail("matrix_room_id", f"'{matrix_id}' is not a room id like !abcdef:example.org "
                                 "(aliases are not accepted)")
        matrix_id = None
    elif matrix_id in PLACEHOLDER_ROOM_IDS:
        s.fail("matrix_room_id", f"{PLACEHOLDER}; use your room's id (Element: Settings > "
                                 "Advanced)")
    if chat_id is None and matrix_id is None:
        if "telegram_chat_id" not in s.data and "matrix_room_id" not in s.data:
            s.fail("name", f"room '{name}' needs telegram_chat_id, matrix_room_id or both")
        return None
    secure = s.get("secure", bool, False)
    if secure and chat_id is not None and matrix_id is not None:
        # Confidential details shown in a secure room would be relayed to the other
        # network, whose members, server and history this room does not control.
        s.fail("secure", f"room '{name}' is bridged (it has both ids), and a bridged room "
                         "cannot be secure: keep the secure room on one network")
    room = RoomConfig(name=name, telegram_chat_id=chat_id, matrix_room_id=matrix_id,
                      secure=secure, reminders=s.get("reminders", bool, True),
                      telegram_topic_id=topic)
    if any(r.name.lower() == name.lower() for r in rooms):
        s.fail("name", f"room name '{name}' is used twice")
    for cid in room.ids:
        if cid not in seen_ids:
            seen_ids[cid] = name
        elif cid.startswith("matrix"):
            s.fail("matrix_room_id", f"{cid} is already room '{seen_ids[cid]}'")
        elif topic is not None:
            s.fail("telegram_topic_id", f"topic {topic} of the group {chat_id} is already room "
                                        f"'{seen_ids[cid]}'")
        else:
            s.fail("telegram_chat_id", f"the group {chat_id} is already room "
                                       f"'{seen_ids[cid]}' as a whole; another entry for it "
                                       "must name one of its forum topics (telegram_topic_id)")
    return room


def _topic(s: _Section, chat_id: int | None) -> int | None:
    """``telegram_topic_id``: one forum topic of the group, paired with a room of its own."""
    if "telegram_topic_id" not in s.data:
        return None
    topic = s.data["telegram_topic_id"]
    if not isinstance(topic, int) or isinstance(topic, bool) or topic < 1:
        s.fail("telegram_topic_id", f"{topic!r} is not a topic id: expected a positive whole "
                                    "number, the last number of a link to the topic (t.me/c/"
                                    "1234567890/45 is topic 45)")
        return None
    if chat_id is None:
        s.fail("telegram_topic_id", "needs telegram_chat_id: the id of the group the topic "
                                    "is in")
        return None
    return topic
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
    closed_days = s.get("closed_case_retention_days", int)
    if closed_days is not None and closed_days < 1:
        s.fail("closed_case_retention_days", "must be 1 or more; leave it out to keep the "
                                             "details of closed cases")
    signer_days = s.get("web_signer_retention_days", int, 90)
    if signer_days < 1:
        s.fail("web_signer_retention_days", "must be 1 or more")
        signer_days = 90
    return PrivacyConfig(data_key=data_key, key_file=key_file, relay_retention_days=relay_days,
                         closed_case_retention_days=closed_days,
                         web_signer_retention_days=signer_days,
                         key_from_env=bool(env.get("CAUCUS_DATA_KEY")))
