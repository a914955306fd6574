"""The Bot API double's files: kept on disk, served and received in chunks.

Telegram serves a bot's downloads at ``/file/bot<token>/<path>`` (20 MB at most, refused
by ``getFile`` above that) and takes uploads of up to 50 MB as multipart parts. The
double does the same without holding a file whole in memory, so that a 20 MB video
costs the bot under test what it would cost against Telegram; and a test can stop
every transfer after its first chunk (``hold``) to catch the bot mid-file.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import BodyPartReader, web

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # what getFile hands a bot
UPLOAD_LIMIT = 50 * 1024 * 1024  # what a bot may send
CHUNK = 64 * 1024


class TooLarge(Exception):
    """An upload over Telegram's 50 MB."""


@dataclass(frozen=True)
class StoredFile:
    url_path: str  # what getFile's file_path says
    disk: Path
    name: str

    @property
    def size(self) -> int:
        return self.disk.stat().st_size

    def read(self) -> bytes:
        return self.disk.read_bytes()


class FileStore:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="botapi-double-"))
        self.by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._names = itertools.count(1)
        self._flowing = asyncio.Event()  # cleared: transfers stop after their first chunk
        self._flowing.set()
        self.downloading = 0  # transfers under way now
        self.uploading = 0

    def hold(self) -> None:
        """Stop every transfer after its first chunk, until :meth:`release`."""
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def put(self, prefix: str, data: bytes | Path, name: str, *, suffix: str = "") -> str:
        """Keep ``data`` (bytes, or a file on disk, taken as it is) under a new file id."""
        n = next(self._names)
        file_id = f"{prefix}{n}"
        if isinstance(data, Path):
            disk = data
        else:
            disk = self.folder / f"{file_id}{suffix}"
            disk.write_bytes(data)
        stored = StoredFile(f"{prefix}s/file_{n}{suffix}", disk, name)
        self.by_id[file_id] = stored
        self._by_path[stored.url_path] = stored
        return file_id

    async def serve(self, request: web.Request, url_path: str) -> web.StreamResponse:
        stored = self._by_path.get(url_path)
        if stored is None:
            return web.Response(status=404)
        response = web.StreamResponse(headers={"Content-Length": str(stored.size)})
        await response.prepare(request)
        self.downloading += 1
        try:
            with stored.disk.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    await response.write(chunk)
                    await self._flowing.wait()
        finally:
            self.downloading -= 1
        await response.write_eof()
        return response

    async def receive(self, part: BodyPartReader) -> tuple[str, Path]:
        """An uploaded part, written to disk as it arrives: (its file name, where it is)."""
        disk = self.folder / f"upload{next(self._names)}"
        size = 0
        self.uploading += 1
        try:
            with disk.open("wb") as fh:
                while chunk := await part.read_chunk(CHUNK):
                    size += len(chunk)
                    if size > UPLOAD_LIMIT:
                        raise TooLarge
                    fh.write(chunk)
                    await self._flowing.wait()
        finally:
            self.uploading -= 1
        return part.filename or "file", disk
