"""``caucus-bot run`` as its own process, for the tests that kill it or run two.

The Bot API double answers from this test's event loop, so waiting for a process
must never block that loop: a bot told to stop finishes its sends and its long
poll against the double first, and would otherwise wait out its own timeouts.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# How long a test waits for a process just started to be at work: its imports alone took up
# to 21 s on a loaded 2-core machine, where 20 s in all made two tests fail.
STARTUP = 90.0


def toml(data: dict) -> str:
    """Enough TOML for our config: tables, arrays of tables, strings, numbers, lists."""
    out: list[str] = []
    for section, body in data.items():
        entries = body if isinstance(body, list) else [body]
        for entry in entries:
            out.append(f"[[{section}]]" if isinstance(body, list) else f"[{section}]")
            out += [f"{k} = {json.dumps(v)}" for k, v in entry.items()]
    return "\n".join(out) + "\n"


def run_bot(config: Path, log: Path, **env_vars: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_vars}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
                            cwd=config.parent, env=env, stdout=subprocess.DEVNULL,
                            stderr=open(log, "ab"))


async def exited(process: subprocess.Popen[bytes], seconds: float) -> int:
    """The process's exit status, waited for without stopping this event loop."""
    return await asyncio.to_thread(process.wait, seconds)


async def stop_bot(*processes: subprocess.Popen[bytes], seconds: float = 20) -> None:
    """SIGTERM, as systemd stops it; SIGKILL for one that does not stop in ``seconds``."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.terminate()
    for process in running:
        try:
            await exited(process, seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            await exited(process, seconds)
