"""Who serves the pages: ``caucus-bot run`` beside the networks, ``caucus-bot web`` alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from bot.cli import main
from bot.config import parse_config
from bot.service import Service
from tests.synapse_server import free_port

ROOT = Path(__file__).resolve().parents[2]


async def test_the_service_serves_the_pages_when_web_is_configured(tmp_path: Path):
    port = free_port()
    config = parse_config({"bot": {"database_url": f"sqlite:///{tmp_path / 'b.db'}"},
                           "web": {"port": port}})
    service = Service(config, outbox_poll_seconds=0.05)
    assert service.web is not None
    await service.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/?lang=es") as response:
                assert response.status == 200
                assert "Páginas de firma" in await response.text()
    finally:
        await service.stop()
    without = Service(parse_config({"bot": {"database_url": f"sqlite:///{tmp_path / 'c.db'}"}}))
    assert without.web is None
    without.database.dispose()


def test_caucus_bot_web_needs_a_web_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = tmp_path / "c.toml"
    config.write_text(f'[bot]\ndatabase_url = "sqlite:///{tmp_path / "c.db"}"\n')
    assert main(["web", "--config", str(config)]) == 2
    assert "c.toml has no [web] table" in capsys.readouterr().err


def test_caucus_bot_web_serves_the_pages_alone_until_stopped(tmp_path: Path):
    port = free_port()
    config = tmp_path / "c.toml"
    config.write_text(f'[bot]\ndatabase_url = "sqlite:///{tmp_path / "c.db"}"\n'
                      f"[web]\nport = {port}\n")
    log = tmp_path / "web.log"
    with log.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--config",
                                    str(config)], cwd=tmp_path, stderr=err,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while "Serving the sign-on pages" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        assert f"at http://127.0.0.1:{port}" in log.read_text()
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/s/unknown", timeout=30)
        assert answer.value.code == 404
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
