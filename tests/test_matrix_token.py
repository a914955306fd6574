"""The access token of a Matrix password login is kept sealed with the data key, and used
again at the next start (no network: nio's login and restore are stood in for)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from nio import LoginResponse

from bot.config import parse_config
from bot.inbound import Inbound
from bot.matrix import MatrixAdapter
from storage import inbound
from storage.crypto import new_key, set_data_keys
from tests.harness import TEST_CONFIG, FakeBot, Network

TOKEN = "syt_Y2F1Y3Vzym90_kEpTsEcReTtOkEn_0d1e2f"


def adapter(bot: FakeBot, tmp_path: Path) -> MatrixAdapter:
    config = parse_config({**TEST_CONFIG, "matrix": {
        "homeserver": "https://matrix.example.org", "user_id": "@caucusbot:example.org",
        "password": "correct horse", "store_path": str(tmp_path / "store")}})
    assert config.matrix is not None
    return MatrixAdapter(config.matrix, config, database=bot.database,
                         dispatcher=bot.dispatcher, clock=lambda: bot.now,
                         inbound_handler=Inbound(bot.dispatcher, bot.database,
                                                 lambda: bot.now, lambda *r, **q: None))


async def test_a_password_login_keeps_its_token_sealed_and_restores_it(tmp_path: Path):
    set_data_keys(new_key())
    bot = FakeBot(tmp_path, Network("matrix"))
    first, second = adapter(bot, tmp_path), adapter(bot, tmp_path)
    try:
        async def login(*args: Any, **kwargs: Any) -> LoginResponse:
            return LoginResponse("@caucusbot:example.org", "DEVICE1", TOKEN)

        first.client.login = login  # type: ignore[method-assign]
        await first._login()
        with sqlite3.connect(tmp_path / "test.db") as connection:
            [(stored,)] = connection.execute("SELECT value FROM resumepoint WHERE name = ?",
                                             (inbound.MATRIX_ACCESS_TOKEN,)).fetchall()
        assert stored.startswith("enc:1:") and TOKEN not in stored
        restored: list[tuple[str, ...]] = []
        second.client.restore_login = lambda *a: restored.append(a)  # type: ignore[method-assign]
        await second._login()
        assert restored == [("@caucusbot:example.org", "DEVICE1", TOKEN)]
    finally:
        await first.client.close()
        await second.client.close()
        bot.close()
