"""A sign-on page to test: the real app on a fresh SQLite file, beside the chat's FakeBot.

``WebBot`` is the FakeBot of the handler tests (real registry and dispatcher, a frozen
clock) with a ``[web]`` table, and the web app built on the same database and clock,
so a test can open a page, sign, and approve in chat.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

import handlers
from bot.config import parse_config
from bot.web.app import build_app
from tests.harness import TEST_CONFIG, FakeBot, Network

WEB = {"public_url": "http://signons.test", "trusted_proxies": ["127.0.0.1"]}
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')


class WebBot(FakeBot):
    def __init__(self, tmp_path: Path, net: Network, *, web: dict[str, Any] | None = None,
                 **extra: Any):
        config = parse_config({**TEST_CONFIG, **extra, "web": {**WEB, **(web or {})},
                               "bot": {**TEST_CONFIG["bot"],
                                       "database_url": f"sqlite:///{tmp_path / 'test.db'}"}})
        super().__init__(tmp_path, net, config)
        self.woken = 0

        def woke() -> None:
            self.woken += 1

        self.app: web.Application = build_app(self.config, self.database, handlers.features(),
                                              clock=lambda: self.now, on_queued=woke)

    async def open_statement(self, secretariat: str, *, deadline: str = "2026-12-01") -> str:
        """A statement with its page on: the page's path (``/s/<token>``)."""
        assert self.config.web is not None
        await self.send(f"/role grant {secretariat} secretariat", user=self.admin)
        await self.send(f"/statement new \"Letter on reprisals\" deadline={deadline}",
                        user=secretariat)
        answer = await self.say("/statement web S1 on", user=secretariat)
        match = re.search(re.escape(self.config.web.public_url) + r"(/s/[\w-]+)", answer)
        assert match, answer
        return match.group(1)


SECRETARIAT = "telegram:1009"
SIGNER = {"org_name": "Cairo Institute for Human Rights Studies", "country": "EG",
          "level": "regional", "ecosoc": "special", "signer_name": "Ana Signer",
          "signer_email": "ana@example.org", "authorised": "yes"}


async def fetch_form(client: Any, path: str, lang: str = "en") -> tuple[str, str]:
    """The page's HTML and its form token (the client keeps the cookie)."""
    response = await client.get(f"{path}?lang={lang}")
    html = await response.text()
    match = CSRF.search(html)
    return html, match.group(1) if match else ""


async def post_form(client: Any, path: str, *, lang: str = "en", **fields: str) -> Any:
    """Post the sign-on form as a browser would, after opening the page."""
    _, token = await fetch_form(client, path, lang)
    return await client.post(path, data={"csrf": token, "lang": lang, **SIGNER, **fields})
