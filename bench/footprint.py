"""Start-to-ready time and idle memory of the real bot process, connected to both networks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bench.servers import READY, rss_mb, servers, spawn_bot, wait_for_line, write_config


def run(folder: Path, *, idle_seconds: float = 5.0) -> dict[str, Any]:
    return asyncio.run(_run(folder, idle_seconds))


async def _run(folder: Path, idle_seconds: float) -> dict[str, Any]:
    async with servers(folder / "footprint") as (synapse, api):
        bot = synapse.register("caucusbot")
        config = write_config(folder, synapse, bot, api,
                              [{"name": "Caucus", "telegram_chat_id": -100111}])
        samples = []
        for attempt in range(2):  # cold (creates the database), then warm
            log = folder / f"bot{attempt}.log"
            process = spawn_bot(config, log)
            ready = await wait_for_line(log, READY, process)
            await asyncio.sleep(idle_seconds)
            rss = rss_mb(process.pid)
            process.terminate()
            process.wait(timeout=20)
            samples.append({"start_to_ready_s": round(ready, 2),
                            "idle_rss_mb": round(rss, 1)})
    return {"cold": samples[0], "warm": samples[1]}


if __name__ == "__main__":
    import tempfile

    print(json.dumps(run(Path(tempfile.mkdtemp())), indent=1))
