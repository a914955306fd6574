"""CPU per relayed message: this checkout, another one (``--against DIR``: main, say)
and the bare relay, as three processes measured in turn in one run.

The relay benchmark (bench/relay.py) times latency; this one is for a change to the
hot path: two versions of the bot side by side against the same floor, on the same
Synapse, in alternating blocks of ten messages (each block's CPU read from /proc
before and after it), so that a change is a ratio measured in one run, not two runs
on a machine whose load moves. ``python -m bench relay-cpu --against /path/to/main``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.relay import Receiver, Side, TelegramWatch, Tokens, paced, report
from bench.servers import (
    READY,
    servers,
    spawn,
    stop_processes,
    user_and_system,
    wait_for_line,
    wait_joined,
    write_config,
)
from tests.botapi_double import BotApiDouble

CHATS = {"ours": -100111, "against": -100444, "bare": -100222}
HERE = Path(__file__).resolve().parents[1]  # this checkout


def run_checkout(config: Path, log: Path, checkout: Path) -> subprocess.Popen[bytes]:
    """``caucus-bot run`` from another checkout's code (its own folder as the cwd)."""
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--config",
                                 str(config)], cwd=config.parent,
                                env={**os.environ, "PYTHONPATH": str(checkout)},
                                stdout=subprocess.DEVNULL, stderr=err)


def run(folder: Path, *, messages: int = 200, against: Path | None = None) -> dict[str, Any]:
    return asyncio.run(_run(folder, messages, against))


async def _run(folder: Path, n: int, against: Path | None) -> dict[str, Any]:
    labels = ["ours", "bare"] if against is None else ["ours", "against", "bare"]
    async with servers(folder / "relay-cpu") as (synapse, api):
        apis = {"ours": api}
        for label in labels[1:]:
            apis[label] = BotApiDouble()
            await apis[label].start()
        accounts = {label: synapse.register(f"{label}bot") for label in labels}
        receiver = Receiver(synapse, synapse.register("alice"))
        await receiver.start()
        rooms = {label: (await receiver.client.room_create(
            name=label, invite=[accounts[label].user_id])).room_id for label in labels}
        processes: dict[str, subprocess.Popen[bytes]] = {}
        for label in labels:
            if label == "bare":
                bare = accounts[label]
                processes[label] = spawn(["bench.bare_relay", json.dumps({
                    "token": apis[label].token, "base_url": apis[label].base_url,
                    "chat": CHATS[label], "homeserver": synapse.url, "user_id": bare.user_id,
                    "room": rooms[label], "access_token": bare.access_token,
                    "device_id": bare.device_id})], folder / "bare.log", cwd=folder)
                continue
            (folder / label).mkdir(exist_ok=True)
            config = write_config(folder / label, synapse, accounts[label], apis[label], [
                {"name": "Pair", "telegram_chat_id": CHATS[label],
                 "matrix_room_id": rooms[label]}])
            checkout = HERE if label == "ours" else against
            assert checkout is not None
            processes[label] = run_checkout(config, folder / f"{label}.log", checkout)
        split = {label: [0.0, 0.0] for label in labels}
        try:
            for label in labels:
                await wait_for_line(folder / f"{label}.log",
                                    "ready" if label == "bare" else READY, processes[label])
                await wait_joined(receiver.client, rooms[label], accounts[label].user_id)
            receiver.watch = {rooms[label]: accounts[label].user_id for label in labels}
            sides = [Side(label, apis[label], CHATS[label], rooms[label], processes[label],
                          TelegramWatch(apis[label], CHATS[label])) for label in labels]
            tokens = Tokens()
            for side in sides:  # first connections and caches, not measured
                await paced(side, receiver, receiver.client, tokens, 20, record=False)
            for k in range(0, n, 10):
                turn = (k // 10) % len(sides)
                for side in sides[turn:] + sides[:turn]:
                    user, system = user_and_system(side.process.pid)
                    await paced(side, receiver, receiver.client, tokens, min(10, n - k))
                    after = user_and_system(side.process.pid)
                    split[side.label][0] += after[0] - user
                    split[side.label][1] += after[1] - system
        finally:
            stop_processes(processes.values())
            await receiver.stop()
            for label in labels[1:]:
                await apis[label].stop()
    out: dict[str, Any] = {"messages_per_direction": n}
    for side in sides:
        measured = report(side)
        user, system = split[side.label]
        out[side.label] = {"cpu_ms_per_message": measured["cpu_ms_per_message"],
                           "user_ms": round(user / side.relayed * 1000, 2),
                           "system_ms": round(system / side.relayed * 1000, 2),
                           "t2m_p50_ms": measured["telegram_to_matrix"]["p50_ms"],
                           "m2t_p50_ms": measured["matrix_to_telegram"]["p50_ms"]}
    for label in labels[:-1]:
        out[label]["ratio_to_bare"] = round(out[label]["cpu_ms_per_message"]
                                            / out["bare"]["cpu_ms_per_message"], 3)
    return out


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    bare = result["bare"]["cpu_ms_per_message"]
    r = []
    for label, name in (("ours", "this checkout"), ("against", "--against")):
        if label in result:
            s = result[label]
            r.append((f"relay CPU per message, {name}/bare",
                      f"{s['cpu_ms_per_message']}/{bare} ms = {s['ratio_to_bare']}x",
                      "≤ 1.25x", "yes" if s["ratio_to_bare"] <= 1.25 else "NO"))
            r.append(("  user / system", f"{s['user_ms']} / {s['system_ms']} ms", "", ""))
    r.append(("  bare user / system",
              f"{result['bare']['user_ms']} / {result['bare']['system_ms']} ms", "", ""))
    return r
