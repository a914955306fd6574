from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import FakeBot, Network


@pytest.fixture(params=["telegram", "matrix"])
def net(request: pytest.FixtureRequest) -> Network:
    """Every handler test runs on both networks: they must behave alike."""
    return Network(request.param)


@pytest.fixture
def bot(tmp_path: Path, net: Network) -> Iterator[FakeBot]:
    fake = FakeBot(tmp_path, net)
    yield fake
    fake.close()
