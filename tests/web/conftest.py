"""Fixtures of the web tests: the app in-process (``client``), or served on loopback in a
thread of its own for a real browser (``served``), and one Chromium per module."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.harness import Network
from tests.synapse_server import free_port
from tests.web.site import SECRETARIAT, WebBot

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[WebBot]:
    """The pages do not depend on the network (tests/handlers/test_web_signons.py runs the
    chat side on both): one network, so each test runs once."""
    bot = WebBot(tmp_path, Network("telegram"))
    yield bot
    bot.close()


@pytest.fixture
async def client(site: WebBot) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(site.app)) as test_client:
        yield test_client


class Served:
    """An app served on 127.0.0.1 by a loop in its own thread, for a browser to reach."""

    def __init__(self, app: web.Application, port: int = 0):
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app, access_log=None)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Debian Chromium for the whole module, driven by Playwright (no browser download:
    tests/run.sh installs Debian's chromium where it is missing)."""
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (tests/run.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Live:
    """A WebBot whose pages a browser can open at ``url``. Chat commands run on the server's
    loop (``chat``): Playwright's sync API keeps a loop of its own in the test's thread."""

    bot: WebBot
    url: str
    served: Served

    def chat(self, text: str, **kw: Any) -> str:
        coroutine = self.bot.say(text, **{"user": SECRETARIAT, **kw})
        return asyncio.run_coroutine_threadsafe(coroutine, self.served.loop).result(60)

    def open_statement(self) -> str:
        """The page of a new statement S1, with its address."""
        path = asyncio.run_coroutine_threadsafe(self.bot.open_statement(SECRETARIAT),
                                                self.served.loop).result(60)
        return self.url + path


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bot = WebBot(tmp_path, Network("telegram"), web={"public_url": url})
    served = Served(bot.app, port)
    yield Live(bot, url, served)
    served.stop()
    bot.close()
