"""Start-to-ready time and idle memory of the real bot process, connected to both networks."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.servers import servers

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def spawn(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
                                cwd=config.parent, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                stdout=subprocess.DEVNULL, stderr=err)


def run(folder: Path, *, idle_seconds: float = 5.0) -> dict[str, Any]:
    return asyncio.run(_run(folder, idle_seconds))


async def _run(folder: Path, idle_seconds: float) -> dict[str, Any]:
    async with servers(folder / "footprint") as (synapse, api):
        bot = synapse.register("caucusbot")
        config = folder / "config.toml"
        config.write_text("\n".join([
            "[bot]", f'database_url = "sqlite:///{folder / "bot.db"}"',
            "[telegram]", f'token = "{api.token}"', f'base_url = "{api.base_url}"',
            "[matrix]", f'homeserver = "{synapse.url}"', f'user_id = "{bot.user_id}"',
            f'access_token = "{bot.access_token}"', f'device_id = "{bot.device_id}"',
            f'store_path = "{folder / "store"}"',
            "[[rooms]]", 'name = "Caucus"', "telegram_chat_id = -100111", ""]))
        samples = []
        for attempt in range(2):  # cold (creates the database), then warm
            log = folder / f"bot{attempt}.log"
            started = time.perf_counter()
            process = spawn(config, log)
            ready = None
            while time.perf_counter() - started < 60:
                if "caucus-bot is ready" in log.read_text(errors="replace"):
                    ready = time.perf_counter() - started
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(idle_seconds)
            rss = rss_mb(process.pid)
            process.terminate()
            process.wait(timeout=20)
            samples.append({"start_to_ready_s": round(ready, 2) if ready else None,
                            "idle_rss_mb": round(rss, 1)})
    return {"cold": samples[0], "warm": samples[1]}


if __name__ == "__main__":
    import tempfile

    print(json.dumps(run(Path(tempfile.mkdtemp())), indent=1))
