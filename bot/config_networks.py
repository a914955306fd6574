"""The ``[telegram]``, ``[matrix]`` and ``[[rooms]]`` tables: where the bot connects and
which rooms it serves.

Read with the rest of the config (``bot.config``). A config copied from
config.example.toml and not filled in still holds the example's stand-ins; they are
refused by name, so the first start says what to put there instead of failing to log in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from bot.config_reader import Problems, Section
from storage.ids import RoomId, room_id_for, telegram_room_id

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
# Room versions before 12 end in ":server"; v12 room ids are a bare hash ("!abc...").
MATRIX_ROOM_ID = re.compile(r"![^:\s]+(:\S+)?")
TELEGRAM_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{10,}")
# config.example.toml's stand-ins: a config that still holds one was copied, not filled in.
PLACEHOLDER_MARK = "replace-with"
PLACEHOLDER_CHAT_IDS = {-1001234567890}
PLACEHOLDER_ROOM_IDS = {"!AbCdEfGhIjKl:example.org", "!SecretariatRoom:example.org"}
PLACEHOLDER = "is the example file's placeholder"


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

    @cached_property
    def ids(self) -> tuple[RoomId, ...]:
        """Canonical ids of this room on each network it lives on (made once: every relayed
        message and every set-up check asks)."""
        out = []
        if self.telegram_chat_id is not None:
            out.append(telegram_room_id(self.telegram_chat_id, self.telegram_topic_id))
        if self.matrix_room_id is not None:
            out.append(room_id_for("matrix", self.matrix_room_id))
        return tuple(out)

    @property
    def bridged(self) -> bool:
        return len(self.ids) == 2


def read_telegram(source: str, data: Any, env: Mapping[str, str],
              problems: Problems) -> TelegramConfig:
    s = Section(source, "[telegram]", data,
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


def read_matrix(source: str, data: Any, env: Mapping[str, str], problems: Problems) -> MatrixConfig:
    s = Section(source, "[matrix]", data,
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


def read_rooms(source: str, data: Any, problems: Problems) -> tuple[RoomConfig, ...]:
    if not isinstance(data, list):
        problems.at(source, "[[rooms]]", "must be an array of tables ([[rooms]])")
        return ()
    rooms: list[RoomConfig] = []
    names: set[str] = set()  # lower case: a set, as a network may have hundreds of pairs
    seen_ids: dict[str, str] = {}
    for n, raw in enumerate(data):
        s = Section(source, f"[[rooms]][{n}]", raw,
                     {"name", "telegram_chat_id", "telegram_topic_id", "matrix_room_id", "secure",
                      "reminders"},
                     problems)
        room = _room(s, names, seen_ids)
        if room is not None:
            rooms.append(room)
            names.add(room.name.lower())
    return tuple(rooms)


def _room(s: Section, names: set[str], seen_ids: dict[str, str]) -> RoomConfig | None:
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
    if name.lower() in names:
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


def _topic(s: Section, chat_id: int | None) -> int | None:
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
