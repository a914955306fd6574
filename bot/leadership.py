"""Who serves a database: one ``caucus-bot run`` at a time, and on PostgreSQL a standby.

On PostgreSQL two processes may share a database: one serves (the leader), the other
waits to take over (the standby). The leader holds a session-level advisory lock on a
connection of its own. The server drops the lock when that session ends, so when the
leader dies (kill -9, a crashed machine) the standby, asking every second, has it at
once and starts serving from the stored offsets and sync token. A leader that cannot
reach its lock connection steps down at once, since it can no longer tell whether it
still leads; and the server ends a lock session it has heard nothing from for
``IDLE_SECONDS``, so a leader cut off from the network frees the lock too, after it has
stopped serving. The lock connections are named in ``pg_stat_activity``
("caucus-bot leader", "caucus-bot standby"), which is how ``caucus-bot restore`` tells
a live database.

On SQLite a second process on the same file would deliver the first one's outbox a
second time: it is refused at start, by an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)
# Ours among the database's advisory locks: (classid, objid) of pg_locks.
KEYS = {"a": 0x63617563, "b": 0x75736264}  # "cauc", "usbd"
APPLICATION = "caucus-bot"
POLL_SECONDS = 1.0  # how often a standby asks for the lock
HEARTBEAT_SECONDS = 1.0  # how often the leader checks that it still holds it
HEARTBEAT_TIMEOUT = 2.0  # a check that takes longer counts as a lost connection
IDLE_SECONDS = 5  # the server ends a lock session silent this long (PostgreSQL 14 and later)


class AlreadyServing(Exception):
    """Another process serves this database, and this kind of database allows only one."""


class Leadership(Protocol):
    """Whether this process may serve: ``lead()`` returns once it may, ``lost()`` once it
    may no longer (with the reason), ``release()`` lets another process lead."""

    leading: bool

    async def lead(self) -> None: ...

    async def lost(self) -> str: ...

    def release(self) -> None: ...


def leadership_for(url: str) -> Leadership:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return AdvisoryLock(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return FileLock(Path(parsed.database).expanduser())
    return Unshared()


class Unshared:
    """A database no other process can open (SQLite in memory): nothing to agree on."""

    leading = False

    async def lead(self) -> None:
        self.leading = True

    async def lost(self) -> str:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    def release(self) -> None:
        self.leading = False


class FileLock:
    """An exclusive ``flock`` on ``<database>.lock``, holding the owner's process id.

    The kernel drops it when the process ends, however it ends: a killed bot leaves no
    stale lock behind."""

    def __init__(self, database: Path):
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self.leading = False
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock now, or raise :class:`AlreadyServing` naming the process that has it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise AlreadyServing(
                f"another caucus-bot (process {holder}) is running on {self.database}; "
                "two processes on one SQLite file would send the same messages twice. Stop "
                "it first; for a standby that takes over, use PostgreSQL (README: Run it for "
                "real).") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        self.leading = True

    def holder(self) -> str | None:
        """The process id of a live bot on this file, or None when there is none."""
        try:
            self.acquire()
        except AlreadyServing:
            return self.path.read_text().strip() or "unknown"
        self.release()
        return None

    async def lead(self) -> None:
        self.acquire()

    async def lost(self) -> str:
        await asyncio.Event().wait()  # a file lock is not lost while the process lives
        raise AssertionError("unreachable")

    def release(self) -> None:
        # The file stays: removing it would let a process that has it open take a lock
        # nobody else can see.
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self.leading = False


class AdvisoryLock:
    def __init__(self, url: str, *, poll_seconds: float = POLL_SECONDS,
                 heartbeat_seconds: float = HEARTBEAT_SECONDS):
        self.poll_seconds = poll_seconds
        self.heartbeat_seconds = heartbeat_seconds
        # A connection of its own, never pooled: when it goes, the lock goes with it.
        self.engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                    hide_parameters=True, connect_args={
                                        "application_name": f"{APPLICATION} standby",
                                        "connect_timeout": 5, "keepalives": 1,
                                        "keepalives_idle": 5, "keepalives_interval": 2,
                                        "keepalives_count": 2, "tcp_user_timeout": 5000})
        self.leading = False
        self._connection: Connection | None = None
        self._beating: threading.Event | None = None  # set to stop the heartbeat thread
        self._last_beat = 0.0
        self._lost: asyncio.Future[str] | None = None

    async def lead(self) -> None:
        """Wait until this process holds the lock. A database that cannot be reached at
        the first try stops the start (a wrong URL should not wait for ever); later, a
        standby keeps trying."""
        first, said = True, False
        while True:
            try:
                if await asyncio.to_thread(self._try_lock):
                    break
            except SQLAlchemyError as exc:
                self._abandon()
                if first:
                    raise
                log.warning("standby: the database does not answer (%s); trying again",
                            type(exc).__name__)
            first = False
            if not said:
                log.info("standby: another caucus-bot leads on this database; this one "
                         "takes over when it stops")
                said = True
            await asyncio.sleep(self.poll_seconds)
        self.leading = True
        self._start_heartbeat()
        log.info("leading: this process holds the database's leader lock")

    async def lost(self) -> str:
        """Return, with the reason, once the lock connection fails or stops answering.

        The checks run on a thread of their own, so that a start busy with migrations keeps
        the session alive; a check that hangs (a network cut) is noticed here."""
        assert self._lost is not None, "lost() before lead()"
        limit = self.heartbeat_seconds + HEARTBEAT_TIMEOUT
        while True:
            try:
                reason = await asyncio.wait_for(asyncio.shield(self._lost),
                                                self.heartbeat_seconds)
                break
            except TimeoutError:
                silent = time.monotonic() - self._last_beat
                if silent > limit:
                    reason = (f"the connection that holds the leader lock has not answered "
                              f"for {silent:.0f} s")
                    break
        self._stop_heartbeat()
        self.leading = False
        self._abandon()
        return reason

    def release(self) -> None:
        self._stop_heartbeat()
        if self._connection is not None and self.leading:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), KEYS)
        self.leading = False
        self._abandon()
        self.engine.dispose()

    def holders(self) -> list[str]:
        """The caucus-bot processes connected to this database, leader or standby."""
        with self.engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT application_name || ' (' || coalesce(host(client_addr), 'local') "
                "|| ', backend ' || pid || ')' FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name IN (:leader, :standby)"),
                {"leader": f"{APPLICATION} leader", "standby": f"{APPLICATION} standby"}
            ).scalars())

    # ---- the heartbeat thread ------------------------------------------------------------

    def _start_heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        lost = self._lost = loop.create_future()
        self._last_beat = time.monotonic()
        stop = self._beating = threading.Event()

        def beat() -> None:
            while not stop.wait(self.heartbeat_seconds):
                try:
                    held = self._holds_lock()
                except SQLAlchemyError as exc:
                    reason = (f"the connection that holds the leader lock failed "
                              f"({type(exc).__name__})")
                else:
                    if held:
                        self._last_beat = time.monotonic()
                        continue
                    reason = "the database no longer shows this process holding the lock"
                if not stop.is_set():
                    self.leading = False  # at once: the outbox checks it before each send
                    loop.call_soon_threadsafe(_settle, lost, reason)
                return

        threading.Thread(target=beat, name="leader lock heartbeat", daemon=True).start()

    def _stop_heartbeat(self) -> None:
        if self._beating is not None:
            self._beating.set()
            self._beating = None

    # ---- blocking database calls, on worker threads --------------------------------------

    def _try_lock(self) -> bool:
        if self._connection is None:
            connection = self.engine.connect()
            # The server ends the session of a leader it no longer hears from, freeing the
            # lock; servers before PostgreSQL 14 lack the setting and keep TCP's timeouts.
            with contextlib.suppress(SQLAlchemyError):
                connection.exec_driver_sql(f"SET idle_session_timeout = '{IDLE_SECONDS}s'")
            self._connection = connection
        held = bool(self._connection.execute(text("SELECT pg_try_advisory_lock(:a, :b)"),
                                             KEYS).scalar())
        if held:
            self._connection.exec_driver_sql(f"SET application_name = '{APPLICATION} leader'")
        return held

    def _holds_lock(self) -> bool:
        """Asked of the server, not assumed: a connection SQLAlchemy had silently replaced
        would hold nothing."""
        connection = self._connection
        if connection is None or connection.invalidated:
            return False
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() AND classid = :a AND objid = :b AND objsubid = 2"),
            KEYS).scalar())

    def _abandon(self) -> None:
        """Let the lock connection go; closed on a thread, since a cut network can hold a
        close for seconds."""
        connection, self._connection = self._connection, None
        if connection is not None:
            def close() -> None:
                with contextlib.suppress(Exception):
                    connection.close()
            threading.Thread(target=close, name="leader lock close", daemon=True).start()


def _settle(future: asyncio.Future[str], reason: str) -> None:
    if not future.done():
        future.set_result(reason)
