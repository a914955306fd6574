"""What the networked benchmarks share: Synapse and the Bot API double, and the bot
run as its own process, as in production."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from nio import AsyncClient

from tests.botapi_double import BotApiDouble
from tests.postgres_server import Postgres
from tests.synapse_server import Account, Synapse

ROOT = Path(__file__).resolve().parent.parent
READY = "caucus-bot is ready"  # what the bot logs once it serves every configured network


@asynccontextmanager
async def servers(folder: Path) -> AsyncIterator[tuple[Synapse, BotApiDouble]]:
    synapse = Synapse(folder / "synapse")
    synapse.start()
    api = BotApiDouble()
    await api.start()
    try:
        yield synapse, api
    finally:
        await api.stop()
        synapse.stop()


def write_config(folder: Path, synapse: Synapse, bot: Account, api: BotApiDouble,
                 rooms: list[dict[str, str | int]], *, database: str | None = None,
                 name: str = "config.toml") -> Path:
    """A config.toml for the real bot against these servers (TOML strings are JSON's);
    its database an SQLite file beside it unless ``database`` names one."""
    database = database or f"sqlite:///{folder / (Path(name).stem + '.db')}"
    lines = ["[bot]", f"database_url = {json.dumps(database)}",
             "[telegram]", f"token = {json.dumps(api.token)}",
             f"base_url = {json.dumps(api.base_url)}",
             f"base_file_url = {json.dumps(api.base_file_url)}",
             "[matrix]", f"homeserver = {json.dumps(synapse.url)}",
             f"user_id = {json.dumps(bot.user_id)}",
             f"access_token = {json.dumps(bot.access_token)}",
             f"device_id = {json.dumps(bot.device_id)}",
             f"store_path = {json.dumps(str(folder / (Path(name).stem + '-store')))}"]
    for room in rooms:
        lines += ["[[rooms]]", *(f"{k} = {json.dumps(v)}" for k, v in room.items())]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path


def spawn(args: list[str], log: Path, *, cwd: Path) -> subprocess.Popen[bytes]:
    """``python -m ARGS`` from this checkout, its stderr (the log) to ``log``."""
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", *args], cwd=cwd,
                                env={**os.environ, "PYTHONPATH": str(ROOT)},
                                stdout=subprocess.DEVNULL, stderr=err)


async def wait_for_line(log: Path, marker: str, process: subprocess.Popen[bytes],
                        seconds: float = 60) -> float:
    """Seconds until ``marker`` appears in ``log``; fails if the process dies first."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        text = await asyncio.to_thread(log.read_text, errors="replace")
        if marker in text:
            return time.perf_counter() - started
        if process.poll() is not None:
            raise RuntimeError(f"{log.name}: exited with {process.returncode}: {text[-2000:]}")
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{log.name}: no {marker!r} within {seconds:.0f} s")


def stop_processes(processes: Iterable[subprocess.Popen[bytes]]) -> None:
    """SIGTERM to all, then wait for each; SIGKILL for one that takes over 20 s."""
    running = list(processes)
    for process in running:
        process.terminate()
    for process in running:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def spawn_bot(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return spawn(["bot.cli", "run", "--config", str(config)], log, cwd=config.parent)


def user_and_system(pid: int) -> tuple[float, float]:
    """User and system CPU time a process has used so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    return sum(user_and_system(pid))


def rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1]) / 1024
    return float("nan")


async def wait_joined(client: AsyncClient, room: str, user: str) -> None:
    for _ in range(200):
        members = await client.joined_members(room)
        if any(m.user_id == user for m in getattr(members, "members", [])):
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{user} did not join {room}")


@contextmanager
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster with its defaults (fsync on), as an operator runs it."""
    server = Postgres(durable=True)
    try:
        server.start()
        server.make_template()
        yield server
    finally:
        server.stop()
