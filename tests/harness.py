"""A fake adapter for handler tests: the real registry and dispatcher, a fresh
database (an SQLite file, or the PostgreSQL one of ``database_url``) and a frozen clock,
no network.

    reply = await bot.send('/role grant telegram:5 secretariat', user=bot.admin)
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, inspect

from bot.commands import Command, Registry
from bot.config import Config, parse_config
from bot.dispatcher import Dispatcher
from bot.events import Event
from bot.replies import Reply
from handlers import all_commands
from storage import outbox
from storage.database import Database
from storage.ids import RoomId, UserId, platform_of

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Network:
    """Canonical ids of the test rooms and users on one network."""

    name: str

    def user(self, n: int) -> str:
        return f"telegram:{1000 + n}" if self.name == "telegram" else f"matrix:@user{n}:example.org"

    @property
    def admin(self) -> str:
        return "telegram:1" if self.name == "telegram" else "matrix:@admin:example.org"

    @property
    def room(self) -> str:
        return "telegram:-5" if self.name == "telegram" else "matrix:!ordinary:example.org"

    @property
    def secure_room(self) -> str:
        return "telegram:-9" if self.name == "telegram" else "matrix:!secure:example.org"

    def dm(self, user: str) -> str:
        return f"{self.name}:dm-{user}"


TEST_CONFIG = {
    "bot": {"admins": ["telegram:1", "matrix:@admin:example.org"], "timezone": "Europe/Zurich"},
    "rooms": [
        {"name": "Caucus", "telegram_chat_id": -5, "matrix_room_id": "!ordinary:example.org"},
        # A secure room is never bridged (check-config refuses it): one on each network.
        {"name": "Secretariat", "telegram_chat_id": -9, "secure": True},
        {"name": "Secretariat on Matrix", "matrix_room_id": "!secure:example.org",
         "secure": True},
    ],
}


class FakeBot:
    def __init__(self, tmp_path: Path, net: Network, config: Config | None = None,
                 extra_commands: Sequence[Command] = (), *, database_url: str | None = None):
        self.net = net
        self.now = START
        self.config = config or parse_config(
            {**TEST_CONFIG, "bot": {**TEST_CONFIG["bot"], "database_url": database_url
                                    or f"sqlite:///{tmp_path / 'test.db'}"}})
        self.database = Database(self.config.bot.database_url)
        self.database.upgrade()
        self.registry = Registry([*all_commands(), *extra_commands])
        self.dispatcher = Dispatcher(config=self.config, registry=self.registry,
                                     database=self.database, clock=lambda: self.now)
        self.dispatcher.bot_usernames.add("caucusbot")
        self._ids = itertools.count(1)
        self._names: dict[str, str] = {}

    @property
    def admin(self) -> str:
        return self.net.admin

    def queued(self) -> list[tuple[str, Reply]]:
        """What waits in the outbox for other rooms, oldest first."""
        with self.database.session() as db:
            return [(row.room_id, Reply.from_json(row.payload)) for row in outbox.pending(db)]

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    async def send(self, text: str, *, user: str | None = None, room: str | None = None,
                   dm: bool = False, name: str | None = None,
                   room_name: str | None = None) -> Reply | None:
        """``room``: any room id; its prefix names the network (the config's or not)."""
        user = user or self.net.user(1)
        room = room or (self.net.dm(user) if dm else self.net.room)
        event = Event(platform=platform_of(room), room_id=RoomId(room),
                      message_id=str(next(self._ids)), sender_id=UserId(user),
                      sender_name=self._name(user, name), text=text, is_direct=dm,
                      timestamp=self.now, room_name=room_name)
        return (await self.dispatcher.handle(event)).reply

    def _name(self, user: str, name: str | None) -> str:
        """A person keeps the name they were first given, as on a real network."""
        if name is not None:
            self._names[user] = name
        return self._names.get(user) or user.split(":")[1].lstrip("@").split(":")[0]

    async def say(self, text: str, **kw: object) -> str:
        """The plain text of the answer, or "" when the bot stays silent."""
        reply = await self.send(text, **kw)  # type: ignore[arg-type]
        return "" if reply is None else reply.plain()

    def close(self) -> None:
        self.database.dispose()


def every_row(connection: Connection) -> str:
    """Every row of every table as text: what a copy of the database (a dump) shows."""
    return json.dumps({table: [list(row) for row in connection.exec_driver_sql(
        f'SELECT * FROM "{table}"')] for table in inspect(connection).get_table_names()},
        default=str, ensure_ascii=False)
