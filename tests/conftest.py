from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from storage.crypto import clear_data_keys
from storage.database import Database
from tests.harness import FakeBot, Network
from tests.postgres_server import Postgres

# The database tests run on each of these: SQLite, and a real PostgreSQL cluster made by the
# tests themselves (tests/postgres_server.py). CAUCUS_TEST_DATABASES=sqlite narrows it.
DATABASES = tuple(name.strip() for name in
                  os.environ.get("CAUCUS_TEST_DATABASES", "sqlite,postgresql").split(",")
                  if name.strip())


@pytest.fixture(autouse=True)
def no_data_key() -> Iterator[None]:
    """The data keys are process-wide: a test that sets them leaves none behind."""
    clear_data_keys()
    yield
    clear_data_keys()


@pytest.fixture(params=["telegram", "matrix"])
def net(request: pytest.FixtureRequest) -> Network:
    """Every handler test runs on both networks: they must behave alike."""
    return Network(request.param)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One throwaway PostgreSQL cluster for the whole run, with a database at the newest
    migration that the tests share, emptied after each (see ``database_url``)."""
    server = Postgres()
    try:
        server.start()
        server.make_template()
        server.shared = server.new_database()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file at the newest migration, copied for each test: running the migrations
    costs 0.2 s a test, a copy a millisecond. (The migrations' own tests start empty.)"""
    path = tmp_path_factory.mktemp("template") / "head.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()  # the last connection checkpoints the write-ahead log into the file
    return path


def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database at the newest migration on ``request.param``'s engine, for one test.

    On SQLite a copy of a file at the newest migration; on PostgreSQL every test gets the
    same database, emptied after it (every row deleted, every sequence back at 1): a new
    database for each test would cost 0.3 s."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: Postgres = request.getfixturevalue("postgres")
    yield server.shared
    server.empty(server.shared)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new database at the newest migration, on each engine in turn."""
    yield from new_database(request, tmp_path)


@pytest.fixture(params=DATABASES)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database no migration has touched, on each engine (for the migrations' tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: Postgres = request.getfixturevalue("postgres")
    url = server.new_database(migrated=False)
    yield url
    server.drop_database(url)


@pytest.fixture
def bot(tmp_path: Path, net: Network, database_url: str) -> Iterator[FakeBot]:
    fake = FakeBot(tmp_path, net, database_url=database_url)
    yield fake
    fake.close()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A fresh database with the schema at head, on each engine (the outbox worker's tests)."""
    db = Database(database_url)
    db.upgrade()
    yield db
    db.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Session]:
    """A session on a fresh database at head, on each engine (the storage tests)."""
    with database.session() as session:
        yield session
