"""The collector during the start: off while ``run`` starts, on again once it serves, and
never off for long (a standby may wait for hours), nor for any other command."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot.cli
import bot.runner
from bot.config import parse_config
from bot.leadership import Unshared


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    yield
    gc.enable()
    gc.unfreeze()


def test_run_starts_with_the_collector_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    seen: list[bool] = []
    monkeypatch.setattr(bot.runner, "run", lambda config: seen.append(gc.isenabled()) or 0)
    (tmp_path / "config.toml").write_text("")
    assert bot.cli.main(["run", "--config", str(tmp_path / "config.toml")]) == 0
    assert seen == [False]
    assert gc.isenabled()  # main gives it back, whatever ``run`` did


def test_every_other_command_runs_with_the_collector_on(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]):
    seen: list[bool] = []

    def check_config(args: object) -> int:
        seen.append(gc.isenabled())
        return 0
    monkeypatch.setattr(bot.cli, "_check_config", check_config)
    assert bot.cli.main(["check-config", str(tmp_path / "config.toml")]) == 0
    assert seen == [True]
    assert bot.cli.main([]) == 2  # no command: the help
    assert "COMMAND" in capsys.readouterr().out
    assert gc.isenabled()


class NeverLeads(Unshared):
    """A standby whose leader never goes."""

    async def lead(self) -> None:
        await asyncio.Event().wait()


async def test_a_standby_gets_the_collector_back_while_it_waits(
        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(bot.runner, "START_WITHOUT_GC_SECONDS", 0.2)
    gc.disable()
    serving = asyncio.ensure_future(bot.runner.serve(parse_config({}), NeverLeads()))
    try:
        for _ in range(100):
            if gc.isenabled():
                break
            await asyncio.sleep(0.05)
        assert gc.isenabled()
        assert not serving.done()  # still waiting to lead
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)


async def test_the_collector_is_back_once_the_bot_serves(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture):
    monkeypatch.setattr(bot.runner, "START_WITHOUT_GC_SECONDS", 600.0)
    config = parse_config({"bot": {"database_url": f"sqlite:///{tmp_path / 'bot.db'}"}})
    gc.disable()
    caplog.set_level("INFO")
    serving = asyncio.ensure_future(bot.runner.serve(config, Unshared()))
    try:
        for _ in range(200):
            if "caucus-bot is ready" in caplog.text:
                break
            await asyncio.sleep(0.05)
        assert "caucus-bot is ready" in caplog.text
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # what the start made is out of its sight
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)


def test_the_start_leaves_what_only_some_commands_need_unimported():
    """dateparser (reminders) and icalendar (the .ics file) are imported at first use:
    together a quarter of a second of every start."""
    code = ("import sys, bot.cli, bot.runner, bot.service, handlers; handlers.features(); "
            "print(sorted({'dateparser', 'icalendar'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parents[1])
    assert out.stdout.strip() == "[]"
