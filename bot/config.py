"""Configuration: one TOML file read with ``tomllib`` into typed, validated objects.

A bad config stops the program at start with a message naming the file, the
key and what is wrong. Secrets (tokens, passwords) may come from environment
variables and are excluded from ``repr`` so they never reach a log line.
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
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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


def default_date_order(timezone: str) -> str:
    """The numeric date order of the time zone's region: DMY unless it is known otherwise."""
    if MDY_ZONES.fullmatch(timezone):
        return "MDY"
    return "YMD" if YMD_ZONES.fullmatch(timezone) else "DMY"


class ConfigError(Exception):
    """``config.toml: [matrix].homeserver: must be an http(s) URL``."""

    def __init__(self, source: str, key: str, problem: str):
        super().__init__(f"{source}: {key}: {problem}")
        self.source, self.key, self.problem = source, key, problem


@dataclass(frozen=True)
class BotConfig:
    timezone: str = "Europe/Zurich"
    database_url: str = "sqlite:///caucus.db"
    admins: tuple[str, ...] = ()
    command_prefixes: tuple[str, ...] = ("/", "!")
    display_name: str = "Caucus Bot"
    # How numbers like 12/01 read: DMY (12 January), MDY (1 December) or YMD.
    date_order: str = "DMY"

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

    @property
    def ids(self) -> tuple[str, ...]:
        """Canonical ids of this room on each network it lives on."""
        out = []
        if self.telegram_chat_id is not None:
            out.append(f"telegram:{self.telegram_chat_id}")
        if self.matrix_room_id is not None:
            out.append(f"matrix:{self.matrix_room_id}")
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
    """

    data_key: str | None = field(default=None, repr=False)
    key_file: str | None = None
    relay_retention_days: int = 7
    closed_case_retention_days: int | None = None


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
    source: str = "(defaults)"

    def room_for(self, canonical_room_id: str) -> RoomConfig | None:
        for room in self.rooms:
            if canonical_room_id in room.ids:
                return room
        return None

    def room_named(self, name: str) -> RoomConfig | None:
        return next((r for r in self.rooms if r.name.lower() == name.lower()), None)


class _Section:
    """Reads one table, names every key in errors, and refuses keys it does not know."""

    def __init__(self, source: str, name: str, data: Any, known: set[str]):
        self.source, self.name = source, name
        if not isinstance(data, Mapping):
            raise ConfigError(source, name, "must be a table")
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(source, self.key(unknown[0]),
                              f"unknown key (known keys: {', '.join(sorted(known))})")
        self.data = data

    def key(self, key: str) -> str:
        return f"{self.name}.{key}"

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.key(key), problem)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        if key not in self.data:
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _tuple(kind)):
            raise self.fail(key, f"must be {_kind_name(kind)}, not {_kind_name(type(value))}")
        return value

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self.get(key, str, default)
        if required and not value:
            raise self.fail(key, "is required")
        return value

    def url(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self.text(key, default, required=required)
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise self.fail(key, "must be an http(s) URL")
        return value

    def int_list(self, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.get(key, list, None)
        if value is None:
            return default
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            raise self.fail(key, "must be a list of whole numbers of days, 0 or more")
        return tuple(sorted(set(value), reverse=True))


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list", dict: "a table"}
    return " or ".join(names.get(k, k.__name__) for k in _tuple(kind))


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
    env = {} if env is None else env
    # Constructed for its check alone: an unknown top-level table is a typo to report.
    _Section(source, "(top level)", data,
             {"bot", "telegram", "matrix", "rooms", "reminders", "cases", "statements",
              "privacy"})
    rooms = _rooms(source, data.get("rooms", []))
    return Config(
        bot=_bot(_Section(source, "[bot]", data.get("bot", {}),
                          {"timezone", "database_url", "admins", "command_prefixes",
                           "display_name", "date_order"})),
        telegram=_telegram(source, data["telegram"], env) if "telegram" in data else None,
        matrix=_matrix(source, data["matrix"], env) if "matrix" in data else None,
        rooms=rooms,
        reminders=_reminders(_Section(source, "[reminders]", data.get("reminders", {}),
                                      {"session_offsets_days", "deadline_offsets_days",
                                       "send_time", "grace_hours"})),
        cases=_cases(_Section(source, "[cases]", data.get("cases", {}), {"stale_days"})),
        statements=StatementsConfig(nudge_days=_Section(
            source, "[statements]", data.get("statements", {}), {"nudge_days"},
        ).int_list("nudge_days", (2, 0))),
        privacy=_privacy(_Section(source, "[privacy]", data.get("privacy", {}),
                                  {"key_file", "relay_retention_days",
                                   "closed_case_retention_days"}), env),
        source=source,
    )


def _bot(s: _Section) -> BotConfig:
    tz = s.text("timezone", "Europe/Zurich")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise s.fail("timezone", f"unknown time zone '{tz}' (use an IANA name such as "
                                 "Europe/Zurich)") from None
    url = s.text("database_url", "sqlite:///caucus.db")
    try:
        make_url(url)
    except ArgumentError:
        raise s.fail("database_url", "is not an SQLAlchemy URL (e.g. sqlite:///caucus.db or "
                                     "postgresql+psycopg://user@host/db)") from None
    admins = s.get("admins", list, [])
    for n, admin in enumerate(admins):
        if not isinstance(admin, str) or not USER_ID.fullmatch(admin):
            raise ConfigError(s.source, f"[bot].admins[{n}]",
                              f"{admin!r} is not a user id; expected telegram:<numeric user id> "
                              "or matrix:@user:server")
    prefixes = s.get("command_prefixes", list, ["/", "!"])
    if not prefixes or not all(isinstance(p, str) and len(p) == 1 and not p.isalnum()
                               and not p.isspace() for p in prefixes):
        raise s.fail("command_prefixes", 'must be a list of single punctuation characters, '
                                         'e.g. ["/", "!"]')
    order = s.text("date_order", default_date_order(tz)).upper()
    if order not in DATE_ORDERS:
        raise s.fail("date_order", f"must be DMY, MDY or YMD, not '{order}'")
    return BotConfig(
        timezone=tz, database_url=url, admins=tuple(admins), command_prefixes=tuple(prefixes),
        display_name=s.text("display_name", "Caucus Bot", required=True), date_order=order,
    )


def _telegram(source: str, data: Any, env: Mapping[str, str]) -> TelegramConfig:
    s = _Section(source, "[telegram]", data,
                 {"token", "base_url", "base_file_url", "mode", "webhook_url", "webhook_listen",
                  "webhook_port", "webhook_secret"})
    token = s.text("token")
    from_env = bool(env.get("CAUCUS_TELEGRAM_TOKEN"))
    token = env.get("CAUCUS_TELEGRAM_TOKEN") or token
    if not token:
        raise s.fail("token", "is required (or set CAUCUS_TELEGRAM_TOKEN)")
    if not TELEGRAM_TOKEN.fullmatch(token):
        raise s.fail("token", "does not look like a BotFather token (<digits>:<letters>)")
    mode = s.text("mode", "polling")
    if mode not in ("polling", "webhook"):
        raise s.fail("mode", f"must be 'polling' or 'webhook', not '{mode}'")
    webhook_url = s.url("webhook_url", required=mode == "webhook")
    port = s.get("webhook_port", int, 8443)
    if not 0 < port < 65536:
        raise s.fail("webhook_port", "must be a port number from 1 to 65535")
    return TelegramConfig(
        token=token, base_url=s.url("base_url", DEFAULT_TELEGRAM_BASE_URL),
        base_file_url=s.url("base_file_url"), mode=mode, webhook_url=webhook_url,
        webhook_listen=s.text("webhook_listen", "127.0.0.1"), webhook_port=port,
        webhook_secret=s.text("webhook_secret"), token_from_env=from_env,
    )


def _matrix(source: str, data: Any, env: Mapping[str, str]) -> MatrixConfig:
    s = _Section(source, "[matrix]", data,
                 {"homeserver", "user_id", "access_token", "password", "device_id", "store_path",
                  "verify_devices"})
    homeserver = s.url("homeserver", required=True)
    user_id = s.text("user_id", required=True)
    if not re.fullmatch(r"@[^:\s]+:\S+", user_id):
        raise s.fail("user_id", f"'{user_id}' is not a Matrix user id like @caucusbot:example.org")
    access_token = env.get("CAUCUS_MATRIX_ACCESS_TOKEN") or s.text("access_token")
    password = env.get("CAUCUS_MATRIX_PASSWORD") or s.text("password")
    if not access_token and not password:
        raise s.fail("access_token", "an access_token or a password is required (or set "
                                     "CAUCUS_MATRIX_ACCESS_TOKEN / CAUCUS_MATRIX_PASSWORD)")
    return MatrixConfig(
        homeserver=homeserver, user_id=user_id, access_token=access_token, password=password,
        device_id=s.text("device_id"), store_path=s.text("store_path", "matrix-store"),
        verify_devices=s.get("verify_devices", bool, False),
        secret_from_env=bool(env.get("CAUCUS_MATRIX_ACCESS_TOKEN")
                             or env.get("CAUCUS_MATRIX_PASSWORD")),
    )


def _rooms(source: str, data: Any) -> tuple[RoomConfig, ...]:
    if not isinstance(data, list):
        raise ConfigError(source, "[[rooms]]", "must be an array of tables ([[rooms]])")
    rooms: list[RoomConfig] = []
    seen_ids: dict[str, str] = {}
    for n, raw in enumerate(data):
        s = _Section(source, f"[[rooms]][{n}]", raw,
                     {"name", "telegram_chat_id", "matrix_room_id", "secure", "reminders"})
        name = s.text("name", required=True)
        chat_id = s.get("telegram_chat_id", (int, str))
        if isinstance(chat_id, str):
            if not re.fullmatch(r"-?\d+", chat_id):
                raise s.fail("telegram_chat_id", f"'{chat_id}' is not a numeric chat id "
                                                 "(groups look like -1001234567890)")
            chat_id = int(chat_id)
        matrix_id = s.text("matrix_room_id")
        if matrix_id is not None and not MATRIX_ROOM_ID.fullmatch(matrix_id):
            raise s.fail("matrix_room_id", f"'{matrix_id}' is not a room id like "
                                           "!abcdef:example.org (aliases are not accepted)")
        if chat_id is None and matrix_id is None:
            raise s.fail("name", f"room '{name}' needs telegram_chat_id, matrix_room_id or both")
        if s.get("secure", bool, False) and chat_id is not None and matrix_id is not None:
            # Confidential details shown in a secure room would be relayed to the other
            # network, whose members, server and history this room does not control.
            raise s.fail("secure", f"room '{name}' is bridged (it has both ids), and a bridged "
                                   "room cannot be secure: keep the secure room on one network")
        room = RoomConfig(name=name, telegram_chat_id=chat_id, matrix_room_id=matrix_id,
                          secure=s.get("secure", bool, False),
                          reminders=s.get("reminders", bool, True))
        if any(r.name.lower() == name.lower() for r in rooms):
            raise s.fail("name", f"room name '{name}' is used twice")
        for cid in room.ids:
            if cid in seen_ids:
                raise s.fail("telegram_chat_id" if cid.startswith("telegram") else
                             "matrix_room_id", f"{cid} is already room '{seen_ids[cid]}'")
            seen_ids[cid] = name
        rooms.append(room)
    return tuple(rooms)


def _reminders(s: _Section) -> RemindersConfig:
    raw_time = s.text("send_time", "09:00")
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", raw_time)
    if not match:
        raise s.fail("send_time", f"'{raw_time}' is not a time of day like 09:00")
    grace = s.get("grace_hours", (int, float), 6)
    if grace < 0:
        raise s.fail("grace_hours", "must be 0 or more")
    return RemindersConfig(
        session_offsets_days=s.int_list("session_offsets_days", (30, 14, 7, 1)),
        deadline_offsets_days=s.int_list("deadline_offsets_days", (7, 2, 0)),
        send_time=time(int(match.group(1)), int(match.group(2))),
        grace_hours=float(grace),
    )


def _cases(s: _Section) -> CasesConfig:
    stale = s.get("stale_days", int, 3)
    if stale < 1:
        raise s.fail("stale_days", "must be 1 or more")
    return CasesConfig(stale_days=stale)


def _privacy(s: _Section, env: Mapping[str, str]) -> PrivacyConfig:
    key_file = s.text("key_file")
    data_key = env.get("CAUCUS_DATA_KEY") or None
    if data_key is None and key_file is not None:
        try:
            data_key = Path(key_file).expanduser().read_text().strip() or None
        except OSError as exc:
            raise s.fail("key_file", f"cannot be read: {exc.strerror}") from None
        if data_key is None:
            raise s.fail("key_file", "is empty; write a key from `caucus-bot keys new` into it")
    relay_days = s.get("relay_retention_days", int, 7)
    if relay_days < 1:
        raise s.fail("relay_retention_days", "must be 1 or more (replies and edits need the "
                                             "text of recent messages)")
    closed_days = s.get("closed_case_retention_days", int)
    if closed_days is not None and closed_days < 1:
        raise s.fail("closed_case_retention_days", "must be 1 or more; leave it out to keep "
                                                   "the details of closed cases")
    return PrivacyConfig(data_key=data_key, key_file=key_file, relay_retention_days=relay_days,
                         closed_case_retention_days=closed_days)
