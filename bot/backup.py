"""``caucus-bot backup FILE`` and ``caucus-bot restore FILE``.

On SQLite a backup uses sqlite3's online backup API: the pages are copied under one
read transaction, so the copy is consistent while the bot goes on writing (a plain copy
of the file can miss what still sits in the write-ahead log). On PostgreSQL ``pg_dump``
does that: the command is printed.

A restore never overwrites a live database: on SQLite it holds the lock file that a
running bot holds (:mod:`bot.leadership`) while it copies; on PostgreSQL any caucus-bot
connected to the database, leader or standby, refuses it.

What a database backup does not hold, and must be kept too: the data key (apart from the
backups: the two together reveal everything) and the Matrix key store (``store_path``).
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.config import Config
from bot.leadership import AdvisoryLock, AlreadyServing, FileLock

ALSO_KEEP = ("Keep with it, apart from the backups: the data key ([privacy].key_file or "
             "CAUCUS_DATA_KEY; without it the encrypted texts cannot be read) and, for "
             "encrypted Matrix rooms, the key store folder ([matrix].store_path).")


class BackupError(Exception):
    """What went wrong, said so that the operator knows what to do."""


def backup(config: Config, target: Path) -> int:
    url = make_url(config.bot.database_url)
    if url.get_backend_name() == "postgresql":
        print("caucus-bot backup: the database is PostgreSQL; pg_dump takes a consistent copy "
              "while the bot runs (the password from PGPASSWORD or ~/.pgpass):",
              file=sys.stderr)
        print(f"pg_dump --format=custom --file={shlex.quote(str(target))} "
              f"{shlex.quote(_libpq(url))}")
        print(ALSO_KEEP, file=sys.stderr)
        return 2
    source = _sqlite_path(url)
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    try:  # created here, readable by its owner only, and never over an existing file
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{target} exists; a backup never overwrites a file: choose a new "
                          "name") from None
    try:
        _copy(source, target)
        revision = _check(target)
    except (sqlite3.Error, BackupError):
        target.unlink(missing_ok=True)
        raise
    print(f"backed up {source} to {target}: {target.stat().st_size / 1e6:.1f} MB, schema "
          f"{revision}, checked.\n{ALSO_KEEP}")
    return 0


def restore(config: Config, source: Path, *, yes: bool) -> int:
    url = make_url(config.bot.database_url)
    if url.get_backend_name() == "postgresql":
        advisory = AdvisoryLock(config.bot.database_url)
        try:
            live = advisory.holders()
        finally:
            advisory.release()
        if live:
            raise BackupError("refused: caucus-bot is connected to this database ("
                              + "; ".join(live) + "); stop every caucus-bot process on it, the "
                              "standby too. A restore never overwrites a live database.")
        print("caucus-bot restore: the database is PostgreSQL, and no caucus-bot is connected "
              "to it; pg_restore puts a pg_dump backup back:", file=sys.stderr)
        print(f"pg_restore --clean --if-exists --no-owner --dbname={shlex.quote(_libpq(url))} "
              f"{shlex.quote(str(source))}")
        return 2
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    revision = _check(source)
    target = _sqlite_path(url)
    lock = FileLock(target)
    try:
        lock.acquire()
    except AlreadyServing:
        raise BackupError(f"refused: a caucus-bot (process {lock.path.read_text().strip()}) is "
                          f"running on {target}; stop it first. A restore never overwrites a "
                          "live database.") from None
    try:
        if _holds_data(target) and not yes and not _confirm(
                f"Replace {target} (its data is lost unless it is backed up) with {source}?"):
            print("caucus-bot restore: nothing changed.", file=sys.stderr)
            return 1
        _copy(source, target)
    finally:
        lock.release()
    print(f"restored {target} from {source} (schema {revision}); the next start brings an "
          "older schema up to date. Start it with the data key that was in use when the "
          "backup was made.")
    return 0


def _copy(source: Path, target: Path) -> None:
    """Page by page under one read transaction (sqlite3's online backup API)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        src.close()
        dst.close()


def _check(path: Path) -> str:
    """The schema revision of a caucus-bot database that passes SQLite's own check."""
    from alembic.script import ScriptDirectory

    from storage.database import alembic_config

    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is damaged (SQLite's quick_check fails)")
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a caucus-bot database ({exc})") from None
    known = {r.revision for r in ScriptDirectory.from_config(
        alembic_config(f"sqlite:///{path}")).walk_revisions()}
    if row is None or row[0] not in known:
        raise BackupError(f"{path} has schema {row[0] if row else 'none'}, which this "
                          "caucus-bot does not know: it was made by a newer version")
    return str(row[0])


def _holds_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                                  ).fetchone()[0] > 0
    finally:
        connection.close()


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"caucus-bot restore: {question} Answer with --yes (standard input is not a "
              "terminal).", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _sqlite_path(url: URL) -> Path:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        raise BackupError(f"{url.render_as_string()} is neither an SQLite file nor PostgreSQL")
    return Path(url.database or "").expanduser()


def _libpq(url: URL) -> str:
    """The URL as pg_dump reads it: no SQLAlchemy driver, no password."""
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
