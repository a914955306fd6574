from __future__ import annotations

from bot.docs import README, with_table
from handlers import build_registry


def test_readme_command_table_matches_the_registry():
    text = README.read_text()
    assert text == with_table(text, build_registry()), (
        "README.md's command table is stale: run python -m bot.docs")


def test_readme_has_the_two_commands():
    text = README.read_text()
    assert ".venv/bin/caucus-bot console" in text
    assert "bash tests/run.sh" in text
