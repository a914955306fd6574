"""How the service starts against real servers: both networks at once, so a slow one
never holds the other back."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.config import parse_config
from bot.service import Service
from tests.botapi_double import BotApiDouble
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import stop
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration
SERVING = "matrix: serving as"


async def test_matrix_is_served_while_telegram_has_not_answered_yet(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str,
        caplog: pytest.LogCaptureFixture):
    pair = Pair(synapse, api, tmp_path, database_url)
    pair.room = await pair.alice.create_room(invite=[pair.bot.user_id])
    caplog.set_level(logging.INFO, logger="bot.matrix")
    api.hold_method("getMe")
    service = Service(parse_config(pair.config_data(), env={}), poll_timeout=1,
                      outbox_poll_seconds=0.2)
    starting = asyncio.ensure_future(service.start())
    try:
        for _ in range(400):
            if SERVING in caplog.text or starting.done():
                break
            await asyncio.sleep(0.05)
        assert SERVING in caplog.text
        assert not starting.done()  # Telegram's getMe is still unanswered
        api.release_method("getMe")
        await asyncio.wait_for(starting, 30)
        await pair.alice.wait_member(pair.room, pair.bot.user_id)
    finally:
        await stop(service)
        await pair.alice.close()


async def test_a_network_that_fails_its_start_stops_the_other(
        api: BotApiDouble, tmp_path: Path, database_url: str):
    """The start fails with the first failure, at once, as it did one network after the
    other: a homeserver that never answers is not waited for, and nothing is left running."""
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the request and never answers
    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = parse_config({
        "bot": {"database_url": database_url},
        "telegram": {"token": "999:not-the-token", "base_url": api.base_url,
                     "base_file_url": api.base_file_url},
        "matrix": {"homeserver": f"http://127.0.0.1:{port}", "user_id": "@bot:localhost",
                   "access_token": "token", "device_id": "DEVICE",
                   "store_path": str(tmp_path / "store")},
    }, env={})
    service = Service(config, poll_timeout=1, outbox_poll_seconds=0.2)
    try:
        with pytest.raises(RuntimeError) as refused:
            await asyncio.wait_for(service.start(), 10)
        assert str(refused.value) == ("Telegram refused the token; check [telegram].token "
                                      "(BotFather's /token shows it)")  # not the token itself
    finally:
        await stop(service)
        server.close()
    left = [t.get_name() for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert not [name for name in left if name.startswith(("matrix", "telegram"))]
