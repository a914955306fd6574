"""A real PostgreSQL cluster for tests and benchmarks: throwaway, on 127.0.0.1.

The server binaries are the machine's own (Debian's ``postgresql`` package puts them
in /usr/lib/postgresql/<version>/bin; ``tests/run.sh`` installs it where missing, and
``CAUCUS_PG_BIN`` names another folder). ``initdb`` makes a cluster in a temporary
folder, the server listens on a free port of 127.0.0.1 and on a socket in that folder,
and ``stop()`` removes it all. ``initdb`` refuses to run as root, so as root the
cluster is made and run as the unprivileged user ``nobody``.

Each test gets a database of its own, copied from a template already at the newest
migration (``CREATE DATABASE ... TEMPLATE``), which takes a fraction of the time the
migrations take; tests of the migrations themselves ask for an empty one.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from tests.synapse_server import free_port

TEMPLATE = "caucus_head"
SUPERUSER = "postgres"


class PostgresUnavailable(RuntimeError):
    pass


def server_binaries() -> Path:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres``; the newest version installed."""
    named = os.environ.get("CAUCUS_PG_BIN")
    candidates = [named] if named else sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]),
        reverse=True)
    on_path = shutil.which("initdb")
    if not named and on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql package "
        "(bash tests/run.sh does), set CAUCUS_PG_BIN to their folder, or run only on SQLite "
        "with CAUCUS_TEST_DATABASES=sqlite")


class Postgres:
    """One cluster. ``durable=False`` (tests) turns fsync off: the tests kill the bot, never
    the database server, and want speed; the benchmark keeps PostgreSQL's defaults."""

    def __init__(self, *, durable: bool = False):
        self.bin = server_binaries()
        self.durable = durable
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="caucus-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self._names = itertools.count(1)
        self._user = "nobody" if os.geteuid() == 0 else None
        self.started = False
        self.shared = ""  # the database the tests share (see tests/conftest.py)
        self._emptiers: dict[str, Engine] = {}

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._user is not None:
            command = ["runuser", "-u", self._user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(f"{args[0]} failed ({done.returncode}): "
                                      f"{done.stderr.strip()[-2000:]}\n{log}")
        return done

    def start(self) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1",
                   f"-c unix_socket_directories={self.folder}", "-c max_connections=200"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", " ".join(options), "start")
        self.started = True

    def stop(self) -> None:
        for engine in self._emptiers.values():
            engine.dispose()
        self._emptiers.clear()
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            finally:
                self.started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def execute(self, *statements: str) -> None:
        """Statements on the ``postgres`` database, outside a transaction (CREATE DATABASE)."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                for statement in statements:
                    connection.execute(text(statement))
        finally:
            engine.dispose()

    def make_template(self) -> None:
        """A database at the newest migration, for new databases to be copied from."""
        from storage.database import Database

        self.execute(f"CREATE DATABASE {TEMPLATE}")
        database = Database(self.url(TEMPLATE))
        try:
            database.upgrade()
        finally:
            database.dispose()

    def new_database(self, *, migrated: bool = True) -> str:
        """A new database's URL: at the newest migration (a copy of the template), or empty."""
        name = f"test_{next(self._names)}"
        self.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {TEMPLATE}" if migrated else ""))
        return self.url(name)

    def empty(self, url: str) -> None:
        """Delete every row but the schema's revision and set every sequence back to 1:
        the database as a new copy of the template, in a few milliseconds.

        Foreign keys are not checked meanwhile (``session_replication_role``), so the
        tables go in any order. A test that left a transaction open would block it: the
        lock timeout says so rather than hang."""
        engine = self._emptiers.get(url)
        if engine is None:
            engine = self._emptiers[url] = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            tables = connection.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'")).scalars().all()
            sequences = connection.execute(text(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
                                           ).scalars().all()
            connection.exec_driver_sql(
                "BEGIN; SET LOCAL lock_timeout = '10s'; "
                "SET LOCAL session_replication_role = replica; "
                + "".join(f'DELETE FROM "{table}"; ' for table in tables)
                + "".join(f"SELECT setval('\"{seq}\"', 1, false); " for seq in sequences)
                + "COMMIT;")

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        for attempt in range(3):
            try:
                self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                return
            except Exception:  # a server still closing a connection: try again
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def terminate(self, application_name: str) -> int:
        """Cut the connections of one client, as a lost network would: how many were cut."""
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                return len(connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"), {"name": application_name}).all())
        finally:
            engine.dispose()
