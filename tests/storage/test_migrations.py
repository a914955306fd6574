"""The alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import storage.all_models  # noqa: F401
from storage.database import HEAD, Database, alembic_config
from storage.models import Identity


def test_migrations_match_the_models(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'm.db'}")
    database.upgrade()
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                SQLModel.metadata)
    database.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_head_is_the_newest_migration(tmp_path: Path):
    """A start skips alembic when the database is at HEAD, so HEAD must be alembic's head."""
    from alembic.script import ScriptDirectory

    url = f"sqlite:///{tmp_path / 'm.db'}"
    assert ScriptDirectory.from_config(alembic_config(url)).get_current_head() == HEAD
    database = Database(url)
    assert database.revision() is None
    database.upgrade()
    assert database.revision() == HEAD
    database.dispose()


def test_upgrade_is_idempotent_and_keeps_data(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    database = Database(url)
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


def test_datetimes_come_back_aware_in_utc(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'm.db'}")
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


def test_naive_datetimes_are_refused(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'm.db'}")
    database.upgrade()
    with database.session() as db, pytest.raises(Exception, match="naive datetime"):
        db.add(Identity(id="x", first_seen=datetime(2026, 1, 1), last_seen=datetime(2026, 1, 1)))
        db.commit()
    database.dispose()
