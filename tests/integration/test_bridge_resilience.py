"""Nothing lost, nothing twice: the bot killed mid-burst, the homeserver down for 20 s."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.botapi_double import BotApiDouble
from tests.integration.conftest import CAUCUS
from tests.integration.test_bridge import Pair
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def toml(data: dict) -> str:
    """Enough TOML for our config: tables, arrays of tables, strings, numbers, lists."""
    out: list[str] = []
    for section, body in data.items():
        entries = body if isinstance(body, list) else [body]
        for entry in entries:
            out.append(f"[[{section}]]" if isinstance(body, list) else f"[{section}]")
            out += [f"{k} = {json.dumps(v)}" for k, v in entry.items()]
    return "\n".join(out) + "\n"


def run_bot(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
                            cwd=config.parent, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "ab"))


async def test_kill_mid_burst_then_restart_delivers_each_once_in_order(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path):
    pair = Pair(synapse, api, tmp_path)
    pair.room = await pair.alice.create_room(invite=[pair.bot.user_id])
    config = tmp_path / "config.toml"
    config.write_text(toml(pair.config_data()))
    process = run_bot(config, tmp_path / "bot.log")
    try:
        await pair.alice.wait_member(pair.room, pair.bot.user_id)
        for n in range(200):
            await api.user_message(CAUCUS, pair.ana, f"burst {n:03d}")
        await pair.alice.wait_for(lambda: len(pair.on_matrix()) >= 40, seconds=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        arrived_before = len(pair.on_matrix())
        assert arrived_before < 200, "the kill came too late to test anything"
        process = run_bot(config, tmp_path / "bot.log")
        relayed = await pair.alice.wait_for(lambda: len(pair.on_matrix()) >= 200 and
                                            pair.on_matrix(), seconds=180)
        await pair.alice.sync(timeout_ms=2000)
        bodies = [e.body for e in pair.on_matrix()]
        assert bodies == [f"Ana: burst {n:03d}" for n in range(200)], (
            f"{len(bodies)} relayed; duplicates or gaps after the kill at {arrived_before}")
        assert len(relayed) == 200
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        await pair.alice.close()


async def test_homeserver_outage_of_20_seconds_loses_nothing(synapse: Synapse,
                                                             api: BotApiDouble, tmp_path: Path):
    pair = Pair(synapse, api, tmp_path)
    service = await pair.start()
    try:
        for n in range(5):
            await api.user_message(CAUCUS, pair.ana, f"before {n}")
        await pair.alice.wait_for(lambda: len(pair.on_matrix()) == 5)
        synapse.stop()
        for n in range(10):
            await api.user_message(CAUCUS, pair.ana, f"during {n}")
            await asyncio.sleep(2)  # traffic goes on for the whole 20 s
        synapse.start()
        for n in range(5):
            await api.user_message(CAUCUS, pair.ana, f"after {n}")
        await pair.alice.wait_for(lambda: len(pair.on_matrix()) >= 20, seconds=120)
        await pair.alice.sync(timeout_ms=1000)
        expected = ([f"Ana: before {n}" for n in range(5)] + [f"Ana: during {n}" for n in range(10)]
                    + [f"Ana: after {n}" for n in range(5)])
        assert [e.body for e in pair.on_matrix()] == expected
    finally:
        if synapse.process is None:
            synapse.start()
        service.stopped.set()
        await service.stop()
        await pair.alice.close()
