"""Whether each Matrix room the bot serves can work, said in words.

For every room of the config or set up from chat with a Matrix side: the bot is in
it, its power level lets it redact (what should not have been typed there), and,
for an encrypted room, its key store is there and can be written (without the keys
it can read nothing there after a restart). Each problem is one line with what to
do, for the log at start and for /bridge status; what is fine is said too.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from storage.ids import room_id_for

if TYPE_CHECKING:
    from bot.matrix import MatrixAdapter


def check_rooms(adapter: MatrixAdapter, changed: set[str]) -> None:
    """Check the rooms whose state ``changed`` (every room when it is empty)."""
    client, store = adapter.client, adapter.settings.store_path
    for room in adapter.rooms.current.all:
        if room.matrix_room_id is None or (changed and room.matrix_room_id not in changed):
            continue
        native, where = room.matrix_room_id, room_id_for("matrix", room.matrix_room_id)
        joined = client.rooms.get(native)
        adapter.set_problem(f"member:{native}", None if joined is not None else (
            f"the bot is not in the Matrix room {room.name}: invite {client.user_id} there."),
            room=where, fine="in the Matrix room")
        if joined is None:
            continue
        adapter.set_problem(f"rights:{native}", None if adapter.can_delete(where) else (
            f"the bot cannot redact messages in the Matrix room {room.name}: give it a power "
            "level that may redact (Moderator), so that it can remove confidential details "
            "typed there."), room=where, fine="may redact there")
        if not joined.encrypted:
            adapter.set_problem(f"encryption:{native}", None, room=where,
                                fine="the room is not encrypted")
        elif client.olm is None:
            adapter.set_problem(f"encryption:{native}", (
                f"the Matrix room {room.name} is encrypted and the bot has no key store "
                f"loaded: check [matrix].store_path ({store}) and that matrix-nio's e2e extra "
                "is installed."), room=where)
        elif not os.access(store, os.W_OK):
            adapter.set_problem(f"encryption:{native}", (
                f"the Matrix room {room.name} is encrypted and the key store {store} cannot be "
                "written: the bot would lose its keys and stop reading the room. Make it "
                "writable, on persistent, backed-up storage."), room=where)
        else:
            adapter.set_problem(f"encryption:{native}", None, room=where,
                                fine=f"encrypted, keys kept in {store}")
