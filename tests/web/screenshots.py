"""``python -m tests.web.screenshots [FOLDER]``: the sign-on page in English, French and
Spanish, as PNG files for the README (default folder: docs/).

The same app and browser as the browser tests, on a made-up statement with a few
signatures from chat and from the web.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.harness import Network
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, Live, Served, free_port
from tests.web.site import WebBot

ROOT = Path(__file__).resolve().parents[2]
SIGNED = ['"Cairo Institute for Human Rights Studies" | Egypt ecosoc=special',
          '"Gulf Centre for Human Rights" | Lebanon ecosoc=general',
          '"Asociación Pro Derechos Humanos" | Peru', '"Front Line Defenders" | Ireland',
          '"Quiet Voices" | Sudan unlisted']


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    bot = WebBot(Path(tempfile.mkdtemp()), Network("telegram"),
                 web={"public_url": f"http://127.0.0.1:{port}"})
    live = Live(bot, f"http://127.0.0.1:{port}", Served(bot.app, port))
    try:
        url = live.open_statement()
        live.chat("/statement edit S1 title=\"Joint letter on reprisals against human rights "
                  "defenders cooperating with the UN\" session=HRC61")
        live.chat("/statement text S1 https://example.org/joint-letter-v2")
        for n, text in enumerate(SIGNED):
            coroutine = bot.say(f"/signon S1 {text}", user=Network("telegram").user(n))
            asyncio.run_coroutine_threadsafe(coroutine, live.served.loop).result(60)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for lang in ("en", "fr", "es"):
                page = browser.new_page(viewport={"width": 860, "height": 900},
                                        java_script_enabled=False)
                page.goto(f"{url}?lang={lang}")
                path = folder / f"signon-page-{lang}.png"
                page.screenshot(path=str(path), full_page=True)
                print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
                page.close()
            browser.close()
    finally:
        live.served.stop()
        bot.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs")
