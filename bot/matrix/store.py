"""The device's key store: matrix-nio's own, less a database transaction on every sync.

nio saves the set of encrypted rooms after every sync that touches a joined room,
even when the set did not change: a store lookup and a transaction per relayed
message. This store writes only the rooms it has not saved before; what ends up on
disk is the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from nio.store import DefaultStore


@dataclass
class KeyStore(DefaultStore):
    _saved_rooms: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._saved_rooms = set(self.load_encrypted_rooms())

    def save_encrypted_rooms(self, rooms: Iterable[str]) -> None:
        new = set(rooms) - self._saved_rooms
        if new:
            super().save_encrypted_rooms(new)
            self._saved_rooms |= new
