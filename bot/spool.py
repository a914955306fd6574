"""Where a file crossing the bridge waits between its download and its upload: on disk.

A 20 MB video held in memory while it crosses would cost the bot as much again in
RAM; written here as it arrives and read from here as it leaves, it costs a few
chunks. Each running bot keeps its files in a folder of its own, named by its
process id, under one parent in the system's temporary folder (``TMPDIR``; keep
that on a disk, not a RAM-backed tmpfs); a file goes as soon as its delivery was
sent or failed. A bot killed mid-transfer leaves its folder behind: the next one to
start removes every folder whose process no longer runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


def default_parent() -> Path:
    return Path(tempfile.gettempdir()) / f"caucus-bot-media-{os.getuid()}"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Spool:
    def __init__(self, parent: Path | None = None):
        self.parent = parent or default_parent()
        self.folder: Path | None = None

    def open(self) -> None:
        """Make this process's folder, after removing those of processes that are gone."""
        self.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for leftover in self.parent.iterdir():
            pid = leftover.name.split("-", 1)[0]
            if pid.isdigit() and not _running(int(pid)):
                log.info("media spool: removing %s, left by a bot that stopped mid-transfer",
                         leftover.name)
                shutil.rmtree(leftover, ignore_errors=True)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.parent))

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    @contextlib.contextmanager
    def file(self) -> Iterator[Path]:
        """A fresh path for one file, removed on the way out whatever happened."""
        if self.folder is None:
            self.open()
        assert self.folder is not None
        fd, name = tempfile.mkstemp(dir=self.folder)
        os.close(fd)
        path = Path(name)
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)
