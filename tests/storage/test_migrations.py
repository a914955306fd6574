"""The alembic migrations build exactly the schema the models describe, on SQLite and on
PostgreSQL, and go down again as far as the first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.all_models  # noqa: F401
from storage.database import HEAD, Database, alembic_config
from storage.models import Identity


def migrate(database: Database, verb: str, target: str) -> None:
    """``alembic upgrade|downgrade TARGET`` on the database, as ``Database.upgrade`` runs it."""
    with database.engine.begin() as connection:
        cfg = alembic_config(database.url)
        cfg.attributes["connection"] = connection
        getattr(command, verb)(cfg, target)


def schema_diff(database: Database) -> list:
    with database.engine.connect() as conn:
        return list(compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata))


def test_migrations_match_the_models(empty_database_url: str):
    database = Database(empty_database_url)
    database.upgrade()
    diff = schema_diff(database)
    database.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_head_is_the_newest_migration(empty_database_url: str):
    """A start skips alembic when the database is at HEAD, so HEAD must be alembic's head."""
    url = empty_database_url
    assert ScriptDirectory.from_config(alembic_config(url)).get_current_head() == HEAD
    database = Database(url)
    assert database.revision() is None
    database.upgrade()
    assert database.revision() == HEAD
    database.dispose()


def test_every_migration_goes_down_and_up_again(empty_database_url: str):
    """Step by step from the newest to nothing, then up again: each downgrade undoes its
    upgrade, so that an operator can step back a release."""
    database = Database(empty_database_url)
    database.upgrade()
    revisions = [r.revision for r in ScriptDirectory.from_config(
        alembic_config(database.url)).walk_revisions()]  # newest first
    for revision in revisions:
        migrate(database, "downgrade", "-1")
        assert database.revision() != revision
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    migrate(database, "upgrade", "head")
    assert database.revision() == HEAD
    assert schema_diff(database) == []
    database.dispose()


def test_upgrade_is_idempotent_and_keeps_data(database_url: str):
    database = Database(database_url)
    database.upgrade()
    now = datetime(2026, 11, 23, 9, tzinfo=UTC)
    with database.session() as db:
        db.add(Identity(id="telegram:1", display_name="Ana", first_seen=now, last_seen=now))
        db.commit()
    database.upgrade()
    with database.session() as db:
        assert db.get(Identity, "telegram:1").display_name == "Ana"  # type: ignore[union-attr]
    assert "alembic_version" in inspect(database.engine).get_table_names()
    database.dispose()


def test_datetimes_come_back_aware_in_utc(database_url: str):
    database = Database(database_url)
    database.upgrade()
    geneva = timezone(timedelta(hours=1))
    with database.session() as db:
        moment = datetime(2026, 11, 23, 10, tzinfo=geneva)
        db.add(Identity(id="x", first_seen=moment, last_seen=moment))
        db.commit()
    with database.session() as db:
        stored = db.get(Identity, "x")
        assert stored is not None
        assert stored.first_seen == datetime(2026, 11, 23, 9, tzinfo=UTC)
        assert stored.first_seen.tzinfo is not None
    database.dispose()


def test_naive_datetimes_are_refused(database_url: str):
    database = Database(database_url)
    database.upgrade()
    with database.session() as db, pytest.raises(Exception, match="naive datetime"):
        db.add(Identity(id="x", first_seen=datetime(2026, 1, 1), last_seen=datetime(2026, 1, 1)))
        db.commit()
    database.dispose()
