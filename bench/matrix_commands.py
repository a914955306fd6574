"""Commands on Matrix: ``!whoami`` sent to the bot, its answer seen, against a bare echo bot.

Both run as their own processes on the same Synapse, each in a room of its own: ours is
``caucus-bot run`` (the room is in its config, not bridged), the floor is
``bench.echo_bot`` (matrix-nio alone, answering at once with a notice of the same
size). Alice's client sends the command and times, on its one clock, from just before
her send to the sync that brings the answer (the notice that replies to her command).
The two are measured in alternating blocks of ten commands, each block's first turn
taken by each in turn, as in :mod:`bench.relay`, so neither gets the quieter minute;
the process CPU of each in its blocks is read from /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from nio import RoomMessageNotice

from bench.relay import Receiver
from bench.servers import (
    READY,
    cpu_seconds,
    servers,
    spawn,
    spawn_bot,
    stop_processes,
    wait_for_line,
    wait_joined,
    write_config,
)
from bench.stats import summary_ms
from tests.synapse_server import Account, Synapse

BLOCK = 10
COMMAND = "!whoami"


class Answers(Receiver):
    """Alice's sync: when the answer to each of her commands (by its event id) arrived."""

    def __init__(self, synapse: Synapse, alice: Account):
        super().__init__(synapse, alice)
        self.answered: dict[str, float] = {}

    def note(self, room_id: str, event: Any, now: float) -> None:
        if isinstance(event, RoomMessageNotice):
            answered = event.source.get("content", {}).get("m.relates_to", {}) \
                .get("m.in_reply_to", {}).get("event_id")
            if answered:
                self.answered.setdefault(answered, now)

    async def ask(self, room: str) -> float:
        """Send the command; seconds until its answer is seen."""
        started = time.perf_counter()
        sent = await self.client.room_send(room, "m.room.message",
                                           {"msgtype": "m.text", "body": COMMAND})
        event_id = getattr(sent, "event_id", None)
        assert event_id, sent
        deadline = time.monotonic() + 30
        while event_id not in self.answered:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer to {COMMAND} in {room} within 30 s")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), 1)
        return self.answered[event_id] - started


def run(folder: Path, *, commands: int = 300) -> dict[str, Any]:
    return asyncio.run(_run(folder, commands))


async def _run(folder: Path, n: int) -> dict[str, Any]:
    async with servers(folder / "matrix-commands") as (synapse, api):
        bot, echo = synapse.register("caucusbot"), synapse.register("echobot")
        answers = Answers(synapse, synapse.register("alice"))
        await answers.start()
        alice = answers.client
        ours_room = (await alice.room_create(name="ours", invite=[bot.user_id])).room_id
        echo_room = (await alice.room_create(name="echo", invite=[echo.user_id])).room_id
        config = write_config(folder, synapse, bot, api,
                              [{"name": "Commands", "matrix_room_id": ours_room}],
                              name="commands.toml")
        processes = {"ours": spawn_bot(config, folder / "commands-ours.log"),
                     "echo": spawn(["bench.echo_bot", json.dumps({
                         "homeserver": synapse.url, "user_id": echo.user_id, "room": echo_room,
                         "access_token": echo.access_token, "device_id": echo.device_id})],
                         folder / "echo.log", cwd=folder)}
        rooms = {"ours": ours_room, "echo": echo_room}
        times: dict[str, list[float]] = {"ours": [], "echo": []}
        cpu = dict.fromkeys(times, 0.0)
        try:
            await wait_for_line(folder / "commands-ours.log", READY, processes["ours"])
            await wait_for_line(folder / "echo.log", "ready", processes["echo"])
            await wait_joined(alice, ours_room, bot.user_id)
            await wait_joined(alice, echo_room, echo.user_id)
            for side in times:  # first connections and caches, not measured
                for _ in range(10):
                    await answers.ask(rooms[side])
            order = list(times)
            for k in range(0, n, BLOCK):
                turn = (k // BLOCK) % 2
                for side in order[turn:] + order[:turn]:
                    before = cpu_seconds(processes[side].pid)
                    for _ in range(min(BLOCK, n - k)):
                        times[side].append(await answers.ask(rooms[side]))
                    cpu[side] += cpu_seconds(processes[side].pid) - before
        finally:
            stop_processes(processes.values())
            await answers.stop()
    out: dict[str, Any] = {"commands": n}
    for side, seconds in times.items():
        out[side] = {**summary_ms(seconds),
                     "cpu_ms_per_command": round(cpu[side] / len(seconds) * 1000, 2)}
    out["ratios"] = {p: round(out["ours"][p] / out["echo"][p], 2) for p in ("p50_ms", "p95_ms")}
    return out


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    o, e, r = result["ours"], result["echo"], result["ratios"]
    return [
        (f"Matrix {COMMAND} round trip p50 ours/echo bot", f"{o['p50_ms']}/{e['p50_ms']} ms = "
         f"{r['p50_ms']}x", "≤ 1.05x", "yes" if r["p50_ms"] <= 1.05 else "NO"),
        (f"Matrix {COMMAND} round trip p95 ours/echo bot", f"{o['p95_ms']}/{e['p95_ms']} ms = "
         f"{r['p95_ms']}x", "≤ 1.05x", "yes" if r["p95_ms"] <= 1.05 else "NO"),
        ("  CPU per command ours/echo bot",
         f"{o['cpu_ms_per_command']}/{e['cpu_ms_per_command']} ms", "", ""),
    ]


if __name__ == "__main__":
    import tempfile

    print(json.dumps(run(Path(tempfile.mkdtemp()), commands=100), indent=1))
