"""The real ``caucus-bot run`` as an operator watches it: /healthz, /metrics and JSON logs."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import pytest

from tests.botapi_double import BotApiDouble
from tests.integration.bot_process import run_bot, stop_bot, toml
from tests.integration.conftest import CAUCUS, MEMBER
from tests.integration.test_standby import READY, wait_for_log
from tests.synapse_server import free_port

pytestmark = pytest.mark.integration
SUMMARY = "Lawyer Omar Ry arrested at the airport"


async def test_health_metrics_and_json_logs_of_a_running_bot(api: BotApiDouble, tmp_path: Path,
                                                            database_url: str):
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(toml({
        "bot": {"admins": ["telegram:1"], "database_url": database_url,
                "log_format": "json"},
        "telegram": {"token": api.token, "base_url": api.base_url,
                     "base_file_url": api.base_file_url},
        "rooms": [{"name": "Geneva caucus", "telegram_chat_id": CAUCUS}],
        "metrics": {"listen": "127.0.0.1", "port": port}}))
    log = tmp_path / "bot.log"
    process = run_bot(config, log)
    try:
        await wait_for_log(log, READY, process)
        await api.user_message(CAUCUS, api.user(MEMBER, "Ana"), f"/flag Egypt | {SUMMARY}")
        await api.user_message(CAUCUS, api.user(MEMBER, "Ana"), "/flag")
        await api.wait_for(lambda: len(api.sent_to(CAUCUS)) == 2)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/healthz") as response:
                assert response.status == 200
                body = await response.text()
            async with http.get("/metrics") as response:
                metrics = await response.text()
        assert body.startswith("ok\ndatabase: answers\ntelegram: polled ")
        assert 'caucus_commands_total{command="flag",outcome="answered"} 1.0' in metrics
        assert 'caucus_commands_total{command="flag",outcome="refused"} 1.0' in metrics
        assert 'caucus_delivery_latency_seconds_count{network="telegram"} 2.0' in metrics
        assert "caucus_leader 1.0" in metrics
        # No user id in a label (a figure such as the RSS, 1.16310016e+08, may hold the digits).
        labels = " ".join(re.findall(r"\{[^}]*\}", metrics))
        assert str(MEMBER) not in labels and "Omar" not in metrics
    finally:
        await stop_bot(process)
    lines = [json.loads(line) for line in (await asyncio.to_thread(log.read_text)).splitlines()]
    assert {"time", "level", "logger", "event"} <= lines[0].keys()
    flagged = [o for o in lines if o.get("command") == "flag"]
    assert flagged and flagged[0]["room"] == "Geneva caucus"
    assert flagged[0]["room_id"] == f"telegram:{CAUCUS}"
    assert not [o for o in lines if "Omar" in json.dumps(o)]
