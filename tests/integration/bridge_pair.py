"""A bridged pair for the end-to-end tests: the Telegram group CAUCUS and a Matrix room."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nio import RoomMessageText

from bot.config import parse_config
from bot.service import Service
from tests.botapi_double import BotApiDouble
from tests.integration.conftest import CAUCUS, MEMBER
from tests.integration.matrix_fixtures import Human
from tests.synapse_server import Synapse


class Pair:
    """A bridged pair: the Telegram group CAUCUS and a Matrix room, with the bot running."""

    def __init__(self, synapse: Synapse, api: BotApiDouble, tmp_path: Path,
                 database_url: str | None = None):
        accounts = synapse.accounts  # type: ignore[attr-defined]
        self.synapse, self.api, self.tmp = synapse, api, tmp_path
        self.database_url = database_url or f"sqlite:///{tmp_path / 'bot.db'}"
        self.bot = synapse.login(accounts["caucusbot"])
        self.alice = Human(synapse, synapse.login(accounts["alice"]), tmp_path / "alice")
        self.room = ""
        self.services: list[Service] = []
        self.ana = api.user(MEMBER, "Ana")

    def config_data(self) -> dict[str, Any]:
        return {
            "bot": {"admins": ["telegram:1", f"matrix:{self.alice.user_id}"],
                    "database_url": self.database_url},
            "telegram": {"token": self.api.token, "base_url": self.api.base_url,
                         "base_file_url": self.api.base_file_url},
            "matrix": {"homeserver": self.synapse.url, "user_id": self.bot.user_id,
                       "access_token": self.bot.access_token, "device_id": self.bot.device_id,
                       "store_path": str(self.tmp / "matrix-store")},
            "rooms": [{"name": "Caucus", "telegram_chat_id": CAUCUS,
                       "matrix_room_id": self.room}],
        }

    async def start(self) -> Service:
        if not self.room:
            self.room = await self.alice.create_room(invite=[self.bot.user_id])
        service = Service(parse_config(self.config_data(), env={}), poll_timeout=1,
                          outbox_poll_seconds=0.2)
        await service.start()
        self.services.append(service)
        await self.alice.wait_member(self.room, self.bot.user_id)
        return service

    def on_matrix(self, kind: type = RoomMessageText) -> list[Any]:
        return [e for e in self.alice.from_user(self.room, self.bot.user_id)
                if isinstance(e, kind) and "m.new_content" not in e.source["content"]]

    def on_telegram(self) -> list[Any]:
        return self.api.sent_to(CAUCUS)
