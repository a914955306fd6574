"""The database handle: engine, sessions, and schema upgrades through alembic."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, event, inspect, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision (tests/storage/test_migrations.py keeps it alembic's
# head): a database at HEAD starts without loading alembic, 12 MB the bot keeps otherwise.
HEAD = "0015"
# The dialects whose INSERT has ON CONFLICT (DO NOTHING, DO UPDATE).
ON_CONFLICT = {"sqlite": sqlite_insert, "postgresql": postgresql_insert}


def _without_rows(record: logging.LogRecord) -> bool:
    """Drops SQLAlchemy's DEBUG line for each row read: rows hold message text and names,
    and ``hide_parameters`` withholds only what is written."""
    return record.msg != "Row %r"


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_without_rows)


class Database:
    def __init__(self, url: str):
        self.url = url
        parsed = make_url(url)
        # A database error's message (and SQLAlchemy's own log, when turned on) would
        # otherwise repeat the statement's values: a case summary, a phone number.
        kwargs: dict[str, Any] = {"hide_parameters": True}
        if parsed.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                # Reuse the connection used last: SQLite drops a connection's page cache
                # when another connection has written, so rotating through the pool
                # re-reads the same pages for every message.
                kwargs["pool_use_lifo"] = True
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        if parsed.get_backend_name() == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction on a plain connection, committed at the end (rolled back on error).

        For the statements run for every message relayed (storage.inbound, storage.outbox,
        storage.links take a connection or a session): an ORM session costs more than the
        statements themselves, and those paths use no ORM object.
        """
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that rolls back on error; callers commit what they mean to keep."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
            except BaseException:
                session.rollback()
                raise

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (idempotent)."""
        if self.revision() == HEAD:
            return
        from alembic import command

        with self.engine.begin() as connection:
            cfg = alembic_config(self.url)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def revision(self) -> str | None:
        """The migration the schema is at; None for a database alembic never touched."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def dispose(self) -> None:
        self.engine.dispose()


def connection_of(db: Session | Connection) -> Connection:
    """The connection a session's transaction runs on, or the connection itself."""
    return db.connection() if isinstance(db, Session) else db


def insert_ignoring(db: Session | Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless a unique key has it already; True if it was inserted.

    One ``INSERT ... ON CONFLICT DO NOTHING`` where the database has it (SQLite,
    PostgreSQL), since this runs for every inbound message; elsewhere a savepoint.
    """
    connection = connection_of(db)
    dialect = connection.dialect.name
    if dialect in ON_CONFLICT:
        return bool(connection.execute(ignoring(dialect, table), values).rowcount == 1)
    try:
        with connection.begin_nested():
            connection.execute(table.insert(), values)
        return True
    except IntegrityError:
        return False


def upsert(db: Session | Connection, table: Table, key: str, values: dict[str, Any]) -> None:
    """Insert a row, or update it where ``key`` (its primary key) is taken: one statement."""
    connection = connection_of(db)
    dialect = connection.dialect.name
    if dialect in ON_CONFLICT:
        connection.execute(upserting(dialect, table, key, tuple(values)), values)
        return
    updated = connection.execute(table.update().where(table.c[key] == values[key])
                                 .values(**values)).rowcount
    if not updated:
        connection.execute(table.insert().values(**values))


# Statements on the per-message path are built once: building one costs SQLAlchemy
# more than SQLite takes to run it.
@cache
def ignoring(dialect: str, table: Table) -> Executable:
    statement: Any = ON_CONFLICT[dialect](table)  # the dialect's Insert, with ON CONFLICT
    # The count of rows inserted is what tells a first sighting; SQLAlchemy reads an
    # INSERT's count from psycopg only when asked to keep it (SQLite's it keeps anyway).
    ignoring: Executable = statement.on_conflict_do_nothing().execution_options(
        preserve_rowcount=True)
    return ignoring


@cache
def upserting(dialect: str, table: Table, key: str, columns: tuple[str, ...]) -> Executable:
    statement: Any = ON_CONFLICT[dialect](table)
    return statement.on_conflict_do_update(
        index_elements=[key], set_={c: statement.excluded[c] for c in columns if c != key})


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the outbox worker read while a handler writes; foreign keys are
    # off by default in SQLite and we rely on them as PostgreSQL would.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
