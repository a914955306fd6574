"""The two servers every networked benchmark runs against: Synapse and the Bot API double."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.botapi_double import BotApiDouble
from tests.synapse_server import Synapse


@asynccontextmanager
async def servers(folder: Path) -> AsyncIterator[tuple[Synapse, BotApiDouble]]:
    synapse = Synapse(folder / "synapse")
    synapse.start()
    api = BotApiDouble()
    await api.start()
    try:
        yield synapse, api
    finally:
        await api.stop()
        synapse.stop()
