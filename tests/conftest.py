from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.crypto import clear_data_keys
from storage.database import Database
from tests.harness import FakeBot, Network


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


@pytest.fixture
def bot(tmp_path: Path, net: Network) -> Iterator[FakeBot]:
    fake = FakeBot(tmp_path, net)
    yield fake
    fake.close()


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite database with the schema at head (the outbox worker's tests)."""
    db = Database(f"sqlite:///{tmp_path / 'o.db'}")
    db.upgrade()
    yield db
    db.dispose()
