"""Files across the bridge in an encrypted room, albums, and a poll's result when it closes.

Real Synapse, the Bot API double, the real bot between them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nio import DownloadResponse, UploadResponse
from nio.crypto.attachments import decrypt_attachment

from tests.botapi_double import BotApiDouble
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import CAUCUS, stop
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration
VIDEO = b"\x00\x00\x00\x18ftypmp42" + os.urandom(300_000)  # several chunks' worth
POLL = {"id": "5432100001", "question": "Side event on Tuesday?", "total_voter_count": 0,
        "is_closed": False, "is_anonymous": True, "type": "regular",
        "allows_multiple_answers": False, "allows_revoting": True, "members_only": False,
        "options": [{"persistent_id": "a", "text": "Yes", "voter_count": 0},
                    {"persistent_id": "b", "text": "No", "voter_count": 0}]}


def from_bot(p: Pair, **wanted: Any) -> list[dict[str, Any]]:
    """The contents the bot posted in the room (edits left out) with these fields."""
    return [e.source["content"] for e in p.alice.from_user(p.room, p.bot.user_id)
            if "m.new_content" not in e.source.get("content", {})
            and all(e.source.get("content", {}).get(k) == v for k, v in wanted.items())]


@pytest.fixture
async def encrypted(synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str
                    ) -> AsyncIterator[Pair]:
    p = Pair(synapse, api, tmp_path, database_url)
    p.room = await p.alice.create_room(invite=[p.bot.user_id], encrypted=True)
    await p.start()
    yield p
    for service in p.services:
        await stop(service)
    await p.alice.close()


async def test_files_cross_an_encrypted_room_both_ways(encrypted: Pair):
    """The bot decrypts what comes from the encrypted room and encrypts what goes into it;
    no file is ever in the clear on the homeserver."""
    p, alice, api = encrypted, encrypted.alice, encrypted.api
    await alice.sync()
    upload, keys = await alice.client.upload(lambda *_: VIDEO, content_type="video/mp4",
                                             filename="march.mp4", encrypt=True,
                                             filesize=len(VIDEO))
    assert isinstance(upload, UploadResponse) and keys is not None
    await alice.say(p.room, "march.mp4", msgtype="m.video",
                    file={**keys, "url": upload.content_uri},
                    info={"mimetype": "video/mp4", "size": len(VIDEO), "w": 640, "h": 360})
    [video] = await api.wait_for(p.on_telegram, seconds=30)
    assert video.method == "sendVideo" and video.media == ("march.mp4", VIDEO)

    await api.user_message(CAUCUS, p.ana, "From the courthouse", extra={"video": api.stored_file(
        VIDEO, duration=12, width=640, height=360, mime_type="video/mp4",
        file_name="court.mp4")})
    [content] = await alice.wait_for(lambda: from_bot(p, msgtype="m.video"), seconds=30)
    assert "url" not in content  # only the encrypted file's address, with its keys
    secret = content["file"]
    stored = await alice.client.download(secret["url"])
    assert isinstance(stored, DownloadResponse) and stored.body != VIDEO
    assert decrypt_attachment(stored.body, secret["key"]["k"], secret["hashes"]["sha256"],
                              secret["iv"]) == VIDEO


async def test_an_album_crosses_item_by_item_with_its_caption_once(pair: Pair):
    """Telegram sends an album as one message per item, sharing a media_group_id, with
    the caption (here with its formatting) on one of them."""
    api, album = pair.api, {"media_group_id": "13579246801357924"}
    first, second = b"\x89PNG\r\n\x1a\n" + bytes(100), b"\x89PNG\r\n\x1a\n" + bytes(200)
    await api.user_message(CAUCUS, pair.ana, "From the march", photo=first, extra=album,
                           entities=[{"type": "bold", "offset": 9, "length": 5}])
    await api.user_message(CAUCUS, pair.ana, photo=second, extra=album)
    await api.user_message(CAUCUS, pair.ana, extra={**album, "video": api.stored_file(
        VIDEO, duration=4, width=320, height=240, mime_type="video/mp4",
        file_name="march.mp4")})
    await pair.alice.wait_for(lambda: len(from_bot(pair, msgtype="m.video")) == 1, seconds=30)
    await asyncio.sleep(0.5)
    await pair.alice.sync()
    files = [c for c in from_bot(pair) if c.get("msgtype") in ("m.image", "m.video")]
    assert [c["msgtype"] for c in files] == ["m.image", "m.image", "m.video"]
    for content, data in zip(files, (first, second, VIDEO), strict=True):
        stored = await pair.alice.client.download(content["url"])
        assert isinstance(stored, DownloadResponse) and stored.body == data
    captions = [c for c in from_bot(pair, msgtype="m.text") if "march" in c["body"]]
    assert [c["body"] for c in captions] == ["Ana: From the march"]
    assert "<b>march</b>" in captions[0]["formatted_body"]


async def test_a_closed_poll_brings_its_counts_as_a_reply_to_the_poll(pair: Pair):
    """Telegram tells a bot when someone stops a poll in a group (a ``poll`` update that
    names only the poll): the counts reach Matrix as a reply to the relayed poll, once."""
    api, alice = pair.api, pair.alice
    posted = await api.user_message(CAUCUS, pair.ana, extra={"poll": dict(POLL)})
    [relayed] = await alice.wait_for(lambda: from_bot(pair, msgtype="m.text"))
    poll_event = next(e for e in alice.from_user(pair.room, pair.bot.user_id)
                      if e.source["content"] is relayed)
    await api.user_stops_poll(CAUCUS, posted["message_id"], [3, 1])
    texts = await alice.wait_for(lambda: len(from_bot(pair, msgtype="m.text")) == 2 and
                                 from_bot(pair, msgtype="m.text"))
    assert texts[1]["body"] == ("Ana: 📊 Poll closed: Side event on Tuesday?\n"
                                "1. Yes — 3 votes\n2. No — 1 vote\n(4 people voted)")
    assert texts[1]["m.relates_to"] == {"m.in_reply_to": {"event_id": poll_event.event_id}}
    # Telegram may say it again (a restart before the offset was stored): still once.
    await api.user_stops_poll(CAUCUS, posted["message_id"], [3, 1])
    await api.user_message(CAUCUS, pair.ana, "after the poll")
    await alice.wait_for(lambda: len(from_bot(pair, msgtype="m.text")) == 3)
    await alice.sync(timeout_ms=1000)
    assert [t["body"] for t in from_bot(pair, msgtype="m.text")][2] == "Ana: after the poll"
    assert len(from_bot(pair, msgtype="m.text")) == 3
