"""The floor for commands on Matrix: a bare echo bot, run as its own process.

``python -m bench.echo_bot SETTINGS_JSON`` syncs with matrix-nio, the client the bot
uses, and answers every ``!whoami`` in its room at once with the kind of message the
bot answers with: an ``m.notice`` with ``formatted_body``, a reply to the command, with
as many words as the bot's answer. It has no storage, no outbox, no de-duplication, no
roles, no encryption store: what an answer costs when nothing but answering is done.
It says ``ready`` on stderr once it is.
"""

from __future__ import annotations

import asyncio
import html
import json
import sys

from nio import AsyncClient, RoomMessageText, SyncResponse


def answer(sender: str, name: str, room: str) -> dict[str, str]:
    """The words of the bot's /whoami answer, in both renderings."""
    lines = [(f"You: {name} — id matrix:{sender}, role guest",
              f"You: <b>{html.escape(name)}</b> — id <code>matrix:{html.escape(sender)}</code>, "
              "role guest"),
             (f"Here: room Commands — id matrix:{room} (not secure)",
              f"Here: room Commands — id <code>matrix:{html.escape(room)}</code> (not secure)"),
             ("Use these ids in the config (admins, rooms) and in !role grant.",
              "<i>Use these ids in the config (admins, rooms) and in !role grant.</i>")]
    return {"body": "\n".join(p for p, _ in lines),
            "formatted_body": "<br>".join(h for _, h in lines)}


async def serve(settings: dict[str, str]) -> None:
    room = settings["room"]
    client = AsyncClient(settings["homeserver"], settings["user_id"])
    client.restore_login(settings["user_id"], settings["device_id"], settings["access_token"])
    await client.join(room)
    first = await client.sync(timeout=0, full_state=True)
    assert isinstance(first, SyncResponse), first
    print("ready", file=sys.stderr, flush=True)
    while True:
        response = await client.sync(timeout=30_000, since=client.next_batch)
        if not isinstance(response, SyncResponse):
            continue
        joined = response.rooms.join.get(room)
        matrix_room = client.rooms.get(room)
        for event in joined.timeline.events if joined and matrix_room else []:
            if isinstance(event, RoomMessageText) and event.sender != client.user_id \
                    and event.body.strip() == "!whoami":
                name = matrix_room.user_name(event.sender) or event.sender
                await client.room_send(room, "m.room.message", {
                    "msgtype": "m.notice", "format": "org.matrix.custom.html",
                    **answer(event.sender, name, room),
                    "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}}})


if __name__ == "__main__":
    asyncio.run(serve(json.loads(sys.argv[1])))
