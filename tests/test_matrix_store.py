"""The Matrix device store saves the encrypted rooms once each, and keeps them."""

from __future__ import annotations

from pathlib import Path

import pytest
from nio.crypto import OlmAccount
from nio.store import DefaultStore

from bot.matrix.store import KeyStore


def open_store(path: Path) -> KeyStore:
    store = KeyStore("@caucusbot:example.org", "DEVICE", str(path))
    if store.load_account() is None:
        store.save_account(OlmAccount())
    return store


def test_rooms_are_written_when_new_and_survive_a_restart(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch):
    writes: list[set[str]] = []
    real = DefaultStore.save_encrypted_rooms

    def counted(self: DefaultStore, rooms: set[str]) -> None:
        writes.append(set(rooms))
        real(self, rooms)

    monkeypatch.setattr(DefaultStore, "save_encrypted_rooms", counted)
    store = open_store(tmp_path)
    store.save_encrypted_rooms({"!a:example.org"})
    for _ in range(3):  # every later sync names the same room, or none
        store.save_encrypted_rooms({"!a:example.org"})
        store.save_encrypted_rooms(set())
    store.save_encrypted_rooms({"!a:example.org", "!b:example.org"})
    assert writes == [{"!a:example.org"}, {"!b:example.org"}]
    assert open_store(tmp_path).load_encrypted_rooms() == {"!a:example.org", "!b:example.org"}
    again = open_store(tmp_path)
    again.save_encrypted_rooms({"!b:example.org"})
    assert len(writes) == 2  # a restarted store knows what it saved before
