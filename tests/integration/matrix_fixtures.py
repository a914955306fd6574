"""A Synapse for the session, and nio clients that play the humans."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nio import AsyncClient, AsyncClientConfig, RoomCreateResponse, SyncResponse

from bot.config import Config, parse_config
from tests.synapse_server import Account, Synapse


class Human:
    """A person in Element, played by a nio client with its own device and key store."""

    def __init__(self, synapse: Synapse, account: Account, store: Path):
        store.mkdir(parents=True, exist_ok=True)
        self.account = account
        self.client = AsyncClient(synapse.url, account.user_id, store_path=str(store),
                                  config=AsyncClientConfig(encryption_enabled=True))
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.seen: list[tuple[str, Any]] = []  # (room_id, event), decrypted where possible

    @property
    def user_id(self) -> str:
        return self.account.user_id

    async def sync(self, timeout_ms: int = 0) -> None:
        response = await self.client.sync(timeout=timeout_ms, full_state=self.client.next_batch
                                          is None, since=self.client.next_batch)
        assert isinstance(response, SyncResponse), response
        for room_id, joined in response.rooms.join.items():
            for event in joined.timeline.events:
                self.seen.append((room_id, event))
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        if self.client.should_query_keys:
            await self.client.keys_query()
        if self.client.should_claim_keys:
            await self.client.keys_claim(self.client.get_users_for_key_claiming())

    async def create_room(self, *, invite: list[str], encrypted: bool = False,
                          name: str = "Caucus", direct: bool = False) -> str:
        state = [{"type": "m.room.encryption", "state_key": "",
                  "content": {"algorithm": "m.megolm.v1.aes-sha2"}}] if encrypted else []
        response = await self.client.room_create(name=name, invite=invite, initial_state=state,
                                                 is_direct=direct)
        assert isinstance(response, RoomCreateResponse), response
        await self.sync()
        return response.room_id

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        await self.sync()
        content = {"msgtype": "m.text", "body": text, **extra}
        response = await self.client.room_send(room_id, "m.room.message", content,
                                               ignore_unverified_devices=True)
        assert hasattr(response, "event_id"), response
        return str(response.event_id)

    async def wait_for(self, predicate: Callable[[], Any], seconds: float = 20) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            await self.sync(timeout_ms=500)
        raise AssertionError(f"timed out after {seconds}s; saw {len(self.seen)} events")

    async def wait_redacted(self, room_id: str, event_id: str, seconds: float = 12) -> None:
        """Until the homeserver says the event was redacted (by whoever may)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            response = await self.client.room_get_event(room_id, event_id)
            if "redacted_because" in response.event.source.get("unsigned", {}):
                return
            await self.sync(timeout_ms=250)
        raise AssertionError(f"{event_id} was not redacted within {seconds}s")

    def from_user(self, room_id: str, user_id: str) -> list[Any]:
        return [e for r, e in self.seen if r == room_id and getattr(e, "sender", "") == user_id]

    async def wait_member(self, room_id: str, user_id: str, seconds: float = 20) -> None:
        """``seconds`` counts from now: for a bot process just started, its imports come
        first (up to 20 s seen on a loaded 2-core machine), so those tests give more."""
        async def joined() -> bool:  # joined, not only invited: before, it sees nothing
            room = self.client.rooms.get(room_id)
            return bool(room and user_id in room.users and user_id not in room.invited_users)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if await joined():
                return
            await self.sync(timeout_ms=500)
        raise AssertionError(f"{user_id} did not join {room_id} within {seconds}s")

    async def close(self) -> None:
        await self.client.close()


def matrix_config(synapse: Synapse, bot: Account, tmp_path: Path, *, admins: list[str],
                  rooms: list[dict[str, Any]], database_url: str | None = None) -> Config:
    return parse_config({
        "bot": {"admins": admins,
                "database_url": database_url or f"sqlite:///{tmp_path / 'bot.db'}",
                "display_name": "Caucus Bot"},
        "matrix": {"homeserver": synapse.url, "user_id": bot.user_id,
                   "access_token": bot.access_token, "device_id": bot.device_id,
                   "store_path": str(tmp_path / "matrix-store")},
        "rooms": rooms,
    }, env={})
