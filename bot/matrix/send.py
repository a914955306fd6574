"""Sending to Matrix: each delivery kind as its event, nio's errors made retries.

A send's transaction id comes from the outbox row, so a retried send is
idempotent at the homeserver; ``M_LIMIT_EXCEEDED`` and network errors become
:class:`RetryLater`, a refusal :class:`DeliveryFailed`. Files from the other side
are uploaded from the outbox's spool on disk, and downloaded (and decrypted) there,
a chunk at a time: never whole in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, assert_never

import aiohttp
from nio import AsyncClient

from bot.deliveries import (
    BotReply,
    Delete,
    Edit,
    FileRef,
    Media,
    React,
    Redact,
    Relay,
    SharedLocation,
    Text,
)
from bot.matrix.attachments import BadAttachment, decrypt_in_place
from bot.matrix.translate import (
    MatrixError,
    check,
    content_of,
    file_content,
    location_content,
    related,
)
from bot.outbox import Delivery, DeliveryFailed, RetryLater
from bot.replies import Reply
from storage.ids import native_of

CHUNK = 256 * 1024  # nio reads a file 4 kB at a time; a video goes up faster in larger pieces
UPLOAD_BYTES_PER_SECOND = 64 * 1024  # slower than this, an upload is taken for stalled
FIRST_SYNC_WAIT = 10.0  # seconds a send waits for the first sync before it counts as a retry


async def chunks_of(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


@contextlib.contextmanager
def matrix_errors() -> Iterator[None]:
    """The homeserver's answers as the outbox understands them: wait and retry, or give up."""
    try:
        yield
    except MatrixError as exc:
        if exc.status_code == "M_LIMIT_EXCEEDED" or exc.http_status == 429:
            raise RetryLater(str(exc), after=exc.retry_after or 1.0, flood=True) from exc
        if exc.http_status is not None and 400 <= exc.http_status < 500 and \
                exc.http_status not in (401, 408):
            # Refused (not in the room, no such room, too large): trying again cannot
            # help. A refused token (401) waits instead: the sync stops the bot to say so.
            raise DeliveryFailed(str(exc)) from exc
        raise RetryLater(str(exc)) from exc  # 5xx (Synapse's are M_UNKNOWN too)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise RetryLater(f"network: {exc!r}") from exc


class MatrixSender:
    def __init__(self, client: AsyncClient, *, verify_devices: bool):
        self.client = client
        self.verify_devices = verify_devices
        # Sends that share an encrypted room's keys first, one at a time: two at once would
        # claim the same devices' one-time keys twice. Every other send goes at once.
        self._sharing_keys = asyncio.Lock()
        # Set once the process's first sync is in: until then no room is known, and a send
        # waits for it rather than for a retry two seconds later (a start, a takeover).
        self.synced = asyncio.Event()

    async def send(self, delivery: Delivery) -> str:
        """Send one outbox row; the transaction id comes from the row, so a retry is safe."""
        room_id = native_of(delivery.room_id)
        tx = f"caucus-{delivery.key}"
        with matrix_errors():
            match delivery.content:
                case Redact() | Delete() as removal:
                    reason = ("deleted on the other side" if isinstance(removal, Redact)
                              else "it should not have been typed in this room")
                    check(await self.client.room_redact(
                        room_id, delivery.target, reason=reason, tx_id=tx),
                        "redacting")
                    return ""
                case Edit(text=text):
                    return await self._send(room_id, self._edit(delivery, text),
                                            f"{tx}-edit")
                case BotReply(reply=reply):
                    return await self._send_reply(room_id, reply, delivery.reply_to, tx)
                case Relay(text=text) | Media(caption=text):
                    return await self._send_relay(room_id, delivery, text, tx)
                case SharedLocation() as place:
                    return await self._send(room_id, location_content(
                        place, delivery.reply_to, delivery.thread_root), tx)
                case React(key=key):
                    return await self._send(room_id, {"m.relates_to": {
                        "rel_type": "m.annotation", "event_id": delivery.target,
                        "key": key}}, tx, "m.reaction")
                case unknown:
                    assert_never(unknown)

    async def _send_reply(self, room_id: str, reply: Reply, reply_to: str | None,
                          tx: str) -> str:
        first = ""
        if reply.lines:
            first = await self._send(room_id, content_of(
                reply.plain(), reply.html(html_lists=True), reply_to), f"{tx}-text")
        if reply.file is not None:
            sent = await self._send_file(room_id, reply.file.name, reply.file.data,
                                         len(reply.file.data), reply.file.mime, f"{tx}-file")
            first = first or sent
        return first

    async def _send_relay(self, room_id: str, delivery: Delivery, text: Text, tx: str) -> str:
        plain, html = text
        first = ""
        if plain or delivery.file is None:
            content = {**content_of(plain, html, delivery.reply_to, delivery.thread_root),
                       "msgtype": "m.text"}
            first = await self._send(room_id, content, f"{tx}-text")
        if delivery.file is not None:
            source = delivery.content.source if isinstance(delivery.content, Media) else None
            sent = await self._send_file(room_id, delivery.file.name, delivery.file.path,
                                         delivery.file.size, delivery.file.mime, f"{tx}-file",
                                         source, delivery.thread_root)
            first = first or sent
        return first

    @staticmethod
    def _edit(delivery: Delivery, text: Text) -> dict[str, Any]:
        plain, html = text
        new = {"msgtype": "m.text", "body": plain, "format": "org.matrix.custom.html",
               "formatted_body": html}
        return {**new, "body": f"* {plain}", "formatted_body": f"* {html}",
                "m.new_content": new,
                "m.relates_to": {"rel_type": "m.replace", "event_id": delivery.target}}

    async def _send(self, room_id: str, content: dict[str, Any], tx_id: str,
                    event_type: str = "m.room.message") -> str:
        if room_id not in self.client.rooms and not self.synced.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.synced.wait(), FIRST_SYNC_WAIT)
        if room_id not in self.client.rooms:
            # Joined but not synced yet, or invited and joining: wait, do not give up.
            raise RetryLater(f"{room_id} is not in the bot's synced rooms yet", after=2.0)
        async with self._key_work(room_id):
            response = check(await self.client.room_send(
                room_id, event_type, content, tx_id=tx_id,
                ignore_unverified_devices=not self.verify_devices), "sending a message")
        return str(response.event_id)

    def _key_work(self, room_id: str) -> contextlib.AbstractAsyncContextManager[Any]:
        """The lock for a send that nio will precede with key work (an encrypted room whose
        members or room key are not shared yet); none for the others. Each room is sent to
        in its own outbox task, so a room slow to take its message holds up no other."""
        room, olm = self.client.rooms.get(room_id), self.client.olm
        if olm is None or room is None or not room.encrypted or (
                room.members_synced and not olm.should_share_group_session(room_id)):
            return contextlib.nullcontext()
        return self._sharing_keys

    async def _send_file(self, room_id: str, name: str, data: bytes | Path, size: int,
                         mime: str, tx_id: str, source: FileRef | None = None,
                         thread_root: str | None = None) -> str:
        """Upload a file (our own export, in memory; or one from the other side, read from
        disk as it goes up) and send its event."""
        room = self.client.rooms.get(room_id)
        encrypted = bool(room and room.encrypted)
        # nio gives an upload no time limit: a stalled one would hold every send behind it.
        async with asyncio.timeout(self.client.config.request_timeout
                                   + size / UPLOAD_BYTES_PER_SECOND):
            upload, keys = await self.client.upload(
                (lambda *_: chunks_of(data)) if isinstance(data, Path) else io.BytesIO(data),
                content_type=mime, filename=name, encrypt=encrypted, filesize=size)
        check(upload, "uploading a file")
        event_type, content = file_content(name, mime, size, source)
        related(content, None, thread_root)
        if encrypted and keys is not None:
            content["file"] = {**keys, "url": upload.content_uri}
        else:
            content["url"] = upload.content_uri
        return await self._send(room_id, content, tx_id, event_type)

    async def fetch_file(self, ref: str, path: Path) -> None:
        """Download (and, from an encrypted room, decrypt) a file for the bridge into
        ``path``, a chunk at a time."""
        encrypted = json.loads(ref) if ref.startswith("{") else None
        url = encrypted["url"] if encrypted else ref
        with matrix_errors():
            response = check(await self.client.download(url, save_to=path),
                             "downloading a file")
        if isinstance(response.body, bytes):  # a file nio read whole (served as JSON)
            await asyncio.to_thread(path.write_bytes, response.body)
        if encrypted is not None:
            try:
                await asyncio.to_thread(decrypt_in_place, path, encrypted)
            except BadAttachment as exc:
                raise DeliveryFailed(f"an encrypted file from Matrix: {exc}") from None
