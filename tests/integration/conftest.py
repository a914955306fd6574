"""Fixtures that run the real bot against real HTTP servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.config import Config, parse_config
from bot.service import Service
from tests.botapi_double import BotApiDouble
from tests.conftest import DATABASES, new_database

CAUCUS = -1001000000001  # an allowed supergroup
SECURE = -1001000000002  # an allowed, secure supergroup
ADMIN = 1
MEMBER = 1001


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every integration test runs on each engine: SQLite, and the tests' PostgreSQL."""
    yield from new_database(request, tmp_path)


@pytest.fixture
async def api() -> AsyncIterator[BotApiDouble]:
    double = BotApiDouble()
    await double.start()
    yield double
    await double.stop()


def telegram_config(api: BotApiDouble, database_url: str, **telegram: Any) -> Config:
    return parse_config({
        "bot": {"admins": [f"telegram:{ADMIN}"], "database_url": database_url},
        "telegram": {"token": api.token, "base_url": api.base_url,
                     "base_file_url": api.base_file_url, **telegram},
        "rooms": [{"name": "Caucus", "telegram_chat_id": CAUCUS},
                  {"name": "Secretariat", "telegram_chat_id": SECURE, "secure": True}],
    }, env={})


@pytest.fixture
async def start_bot(api: BotApiDouble, database_url: str
                    ) -> AsyncIterator[Callable[..., Awaitable[Service]]]:
    """Start the real service against the double; every one started is stopped at the end."""
    running: list[Service] = []

    async def start(**telegram: Any) -> Service:
        service = Service(telegram_config(api, database_url, **telegram), poll_timeout=2,
                          outbox_poll_seconds=0.2)
        await service.start()
        running.append(service)
        return service

    yield start
    for service in running:
        if not service.stopped.is_set():
            service.stopped.set()
            await service.stop()


async def stop(service: Service) -> None:
    service.stopped.set()
    await service.stop()


@pytest.fixture
async def pair(synapse: Any, api: BotApiDouble, tmp_path: Path, database_url: str
               ) -> AsyncIterator[Any]:
    """A bridged pair with the bot running (see tests/integration/bridge_pair.py)."""
    from tests.integration.bridge_pair import Pair

    p = Pair(synapse, api, tmp_path, database_url)
    await p.start()
    yield p
    for service in p.services:
        if not service.stopped.is_set():
            await stop(service)
    await p.alice.close()


# ---- Matrix: one Synapse for the whole session -------------------------------------------

@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from tests.synapse_server import Synapse

    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    server.accounts = {name: server.register(name, admin=name == "alice")  # type: ignore[attr-defined]
                       for name in ("caucusbot", "alice", "bob")}
    yield server
    server.stop()


def lock_the_database_once(service: Service) -> list[str]:
    """The first message the bot receives meets a locked database; returns the texts tried."""
    receive, calls = service.inbound.receive, []

    async def locked_once(*args: Any, **kwargs: Any) -> bool:
        calls.append(args[0].text)
        if len(calls) == 1:
            raise OperationalError("INSERT", {}, Exception("database is locked"))
        return await receive(*args, **kwargs)

    service.inbound.receive = locked_once  # type: ignore[method-assign]
    return calls
