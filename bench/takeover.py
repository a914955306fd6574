"""How long a standby takes to serve after the leader is killed (kill -9), on PostgreSQL.

Two ``caucus-bot run`` processes share one database; the leader is killed five times
(the killed one is started again as the new standby each time). Two figures a kill: from
the kill to the standby's "caucus-bot is ready", and from the kill to the arrival on
Matrix of a message posted on Telegram just after the kill (what a member waits).
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.relay import Receiver
from bench.servers import READY, servers, spawn_bot, wait_for_line, write_config

STANDBY = "standby: another caucus-bot leads"
CHAT = -100444


async def _run(folder: Path, url: str, kills: int) -> dict[str, Any]:
    async with servers(folder / "takeover") as (synapse, api):
        bot = synapse.register("takeoverbot")
        receiver = Receiver(synapse, synapse.register("carol"))
        await receiver.start()
        room = (await receiver.client.room_create(name="takeover", invite=[bot.user_id])
                ).room_id
        config = write_config(folder, synapse, bot, api, [
            {"name": "Pair", "telegram_chat_id": CHAT, "matrix_room_id": room}],
            database=url, name="takeover.toml")
        receiver.watch = {room: bot.user_id}
        logs = [folder / f"takeover-{n}.log" for n in range(kills + 2)]
        leader = spawn_bot(config, logs[0])
        await wait_for_line(logs[0], READY, leader)
        standby = spawn_bot(config, logs[1])
        await wait_for_line(logs[1], STANDBY, standby)
        ana = api.user(4242, "Ana")
        to_ready, to_relay = [], []
        try:
            for k in range(kills):
                token = 1000 + k
                leader.send_signal(signal.SIGKILL)
                killed = time.perf_counter()
                leader.wait()
                await api.user_message(CHAT, ana, f"after kill #{token}")
                waiting = time.perf_counter()
                ready = await wait_for_line(logs[k + 1], READY, standby, seconds=60)
                to_ready.append(waiting - killed + ready)
                await receiver.wait([token], seconds=60)
                to_relay.append(receiver.arrived[token] - killed)
                leader, standby = standby, spawn_bot(config, logs[k + 2])
                await wait_for_line(logs[k + 2], STANDBY, standby)
        finally:
            for process in (leader, standby):
                process.terminate()
            for process in (leader, standby):
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            await receiver.stop()
    return {"kills": kills,
            "to_ready_s": [round(s, 2) for s in to_ready],
            "to_relay_s": [round(s, 2) for s in to_relay],
            "median_to_ready_s": round(statistics.median(to_ready), 2),
            "median_to_relay_s": round(statistics.median(to_relay), 2),
            "max_to_relay_s": round(max(to_relay), 2)}


def run(folder: Path, url: str, *, kills: int = 5) -> dict[str, Any]:
    return asyncio.run(_run(folder, url, kills))
