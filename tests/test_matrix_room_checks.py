"""Each Matrix room's set-up, in words: in the room, power to redact, encryption and keys."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.config import parse_config
from bot.matrix.room_checks import check_rooms
from bot.rooms import Rooms

CONFIG = parse_config({"rooms": [{"name": "Caucus", "matrix_room_id": "!a:x"},
                                 {"name": "Annex", "matrix_room_id": "!b:x"},
                                 {"name": "Group only", "telegram_chat_id": -5}]})


class FakeAdapter:
    """What check_rooms reads of the Matrix adapter, and what it records."""

    def __init__(self, store: Path, rooms: dict[str, Any], *, olm: object = object(),
                 may_redact: bool = True):
        self.settings = SimpleNamespace(store_path=str(store))
        self.client = SimpleNamespace(rooms=rooms, olm=olm, user_id="@bot:x")
        self.rooms = SimpleNamespace(current=Rooms.of(CONFIG))
        self.may_redact = may_redact
        self.found: dict[str, tuple[str | None, str]] = {}

    def can_delete(self, room_id: str) -> bool:
        return self.may_redact

    def set_problem(self, key: str, problem: str | None, *, room: str | None = None,
                    fine: str = "") -> None:
        self.found[key] = (problem, fine)


def test_all_fine_is_said_in_words(tmp_path: Path):
    adapter = FakeAdapter(tmp_path, {"!a:x": SimpleNamespace(encrypted=True),
                                     "!b:x": SimpleNamespace(encrypted=False)})
    check_rooms(adapter, set())  # type: ignore[arg-type]
    assert adapter.found == {
        "member:!a:x": (None, "in the Matrix room"), "rights:!a:x": (None, "may redact there"),
        "encryption:!a:x": (None, f"encrypted, keys kept in {tmp_path}"),
        "member:!b:x": (None, "in the Matrix room"), "rights:!b:x": (None, "may redact there"),
        "encryption:!b:x": (None, "the room is not encrypted")}


def test_each_problem_says_what_to_do(tmp_path: Path):
    adapter = FakeAdapter(tmp_path, {"!a:x": SimpleNamespace(encrypted=True)}, olm=None,
                          may_redact=False)
    check_rooms(adapter, set())  # type: ignore[arg-type]
    assert adapter.found["member:!b:x"][0] == ("the bot is not in the Matrix room Annex: "
                                               "invite @bot:x there.")
    assert adapter.found["rights:!a:x"][0].startswith(
        "the bot cannot redact messages in the Matrix room Caucus: give it a power level")
    assert adapter.found["encryption:!a:x"][0].startswith(
        "the Matrix room Caucus is encrypted and the bot has no key store loaded: check "
        f"[matrix].store_path ({tmp_path})")


def test_a_key_store_that_cannot_be_written_is_a_problem(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # as a read-only mount
    adapter = FakeAdapter(tmp_path, {"!a:x": SimpleNamespace(encrypted=True)})
    check_rooms(adapter, {"!a:x"})  # type: ignore[arg-type]
    assert "cannot be written: the bot would lose its keys" in adapter.found[
        "encryption:!a:x"][0]
    assert "member:!b:x" not in adapter.found  # only the rooms that changed
