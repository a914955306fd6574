"""What relaying a large video costs the bot's memory (``python -m bench media``).

The real bot runs as its own process against Synapse and the Bot API double. A
20 MB video crosses each way (Telegram's download limit for bots is 20 MB), and the
bot's peak resident memory during the relay is read from the kernel: the high-water
mark (``VmHWM``) is reset to the current RSS just before (``/proc/PID/clear_refs``),
so the peak minus the RSS before is what the relay added. A 100 kB file is measured
the same way in the same run, as the floor: what any relay costs, whatever its size.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nio import AsyncClient, RoomSendResponse, SyncResponse, UploadResponse

from bench.servers import READY, servers, spawn_bot, wait_for_line, wait_joined, write_config
from tests.botapi_double import BotApiDouble

CHAT = -100333
MB = 1024 * 1024
SIZES = {"100 kB": 100 * 1024, "20 MB": 20 * MB}


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak since the last reset) of a process, in kB."""
    out = {}
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = row.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux 4.0+)


def video(folder: Path, size: int) -> Path:
    path = folder / f"video-{size}.mp4"
    with path.open("wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42")
        left = size - 12
        while left > 0:
            fh.write(os.urandom(min(MB, left)))
            left -= MB
    return path


async def measured(pid: int, relay: Callable[[], Awaitable[None]]) -> dict[str, float]:
    """Peak RSS added (MB) and seconds taken by one relay."""
    await asyncio.sleep(1)  # let the bot settle after the previous relay
    before = memory_kb(pid)["VmRSS"]
    reset_peak(pid)
    started = time.perf_counter()
    await relay()
    seconds = time.perf_counter() - started
    peak = memory_kb(pid)["VmHWM"]
    return {"rss_before_mb": round(before / 1024, 1),
            "peak_added_mb": round((peak - before) / 1024, 1), "seconds": round(seconds, 2)}


def run(folder: Path) -> dict[str, Any]:
    return asyncio.run(_run(folder))


async def _run(folder: Path) -> dict[str, Any]:
    folder = folder / "media"
    folder.mkdir(parents=True, exist_ok=True)
    async with servers(folder) as (synapse, api):
        bot, person = synapse.register("caucusbot"), synapse.register("alice")
        alice = AsyncClient(synapse.url, person.user_id)
        alice.restore_login(person.user_id, person.device_id, person.access_token)
        room = (await alice.room_create(name="media", invite=[bot.user_id])).room_id
        config = write_config(folder, synapse, bot, api,
                              [{"name": "Caucus", "telegram_chat_id": CHAT,
                                "matrix_room_id": room}])
        process = spawn_bot(config, folder / "bot.log")
        try:
            await wait_for_line(folder / "bot.log", READY, process)
            await wait_joined(alice, room, bot.user_id)
            first = await alice.sync(timeout=0, full_state=True)
            assert isinstance(first, SyncResponse)
            out: dict[str, Any] = {}
            for label, size in SIZES.items():
                path = video(folder, size)
                out[f"telegram_to_matrix_{label}"] = await measured(
                    process.pid, lambda p=path, n=size: _to_matrix(api, alice, room, p, n))
                out[f"matrix_to_telegram_{label}"] = await measured(
                    process.pid, lambda p=path, n=size: _to_telegram(api, alice, room, p, n))
            return out
        finally:
            process.terminate()
            process.wait(timeout=20)
            await alice.close()


async def _to_matrix(api: BotApiDouble, alice: AsyncClient, room: str, path: Path,
                     size: int) -> None:
    await api.user_message(CHAT, api.user(1001, "Ana"), extra={"video": api.stored_file(
        path, duration=60, width=1280, height=720, mime_type="video/mp4",
        file_name=path.name)})
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        response = await alice.sync(timeout=5000, since=alice.next_batch)
        if isinstance(response, SyncResponse) and room in response.rooms.join:
            for event in response.rooms.join[room].timeline.events:
                content = event.source.get("content", {})
                if content.get("msgtype") == "m.video" and \
                        content.get("info", {}).get("size") == size:
                    return
    raise TimeoutError("the video did not reach Matrix")


async def _to_telegram(api: BotApiDouble, alice: AsyncClient, room: str, path: Path,
                       size: int) -> None:
    upload, _ = await alice.upload(lambda *_: path, content_type="video/mp4",
                                   filename=path.name, filesize=size)
    assert isinstance(upload, UploadResponse), upload
    sent = await alice.room_send(room, "m.room.message", {
        "msgtype": "m.video", "body": path.name, "url": upload.content_uri,
        "info": {"mimetype": "video/mp4", "size": size, "w": 1280, "h": 720}})
    assert isinstance(sent, RoomSendResponse), sent

    def arrived() -> bool:
        return any(s.method == "sendVideo" and s.upload is not None and
                   os.path.getsize(s.upload[1]) == size for s in api.sent_to(CHAT))
    await api.wait_for(arrived, seconds=300)


def rows(out: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    r = []
    for direction, short in (("telegram_to_matrix", "T→M"), ("matrix_to_telegram", "M→T")):
        small, large = out[f"{direction}_100 kB"], out[f"{direction}_20 MB"]
        r.append((f"media {short} 20 MB video: peak RSS added",
                  f"{large['peak_added_mb']} MB in {large['seconds']} s",
                  "< 30 MB", "yes" if large["peak_added_mb"] < 30 else "NO"))
        r.append((f"media {short} 100 kB file: peak RSS added",
                  f"{small['peak_added_mb']} MB in {small['seconds']} s", "", ""))
    return r


if __name__ == "__main__":
    import json
    import tempfile

    print(json.dumps(run(Path(tempfile.mkdtemp())), indent=1))
