"""The bridge end to end: real Synapse, the Bot API double, the real bot in between."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nio import (
    DownloadResponse,
    RoomMessageImage,
    RoomMessageNotice,
    RoomPutStateResponse,
)

from tests.botapi_double import BotApiDouble
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import CAUCUS, stop
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration


async def test_text_crosses_both_ways_with_the_sender_name(pair: Pair):
    await pair.api.user_message(CAUCUS, pair.ana, "Hello from Telegram <3")
    [relayed] = await pair.alice.wait_for(pair.on_matrix)
    assert relayed.body == "Ana: Hello from Telegram <3"
    assert relayed.source["content"]["formatted_body"] == "<b>Ana</b>: Hello from Telegram &lt;3"
    await pair.alice.say(pair.room, "Hi from Matrix & Element")
    [copy] = await pair.api.wait_for(pair.on_telegram)
    assert copy.plain == "alice: Hi from Matrix & Element" and copy.parse_mode == "HTML"
    assert copy.text.startswith("<b>alice</b>: ")
    await pair.alice.sync(timeout_ms=500)
    assert len(pair.on_matrix()) == 1  # the bot never relays its own messages back


async def test_formatting_is_converted(pair: Pair):
    text = "bold italic code link"
    entities = [{"type": "bold", "offset": 0, "length": 4},
                {"type": "italic", "offset": 5, "length": 6},
                {"type": "code", "offset": 12, "length": 4},
                {"type": "text_link", "offset": 17, "length": 4, "url": "https://ohchr.org/"}]
    await pair.api.user_message(CAUCUS, pair.ana, text, entities=entities)
    [relayed] = await pair.alice.wait_for(pair.on_matrix)
    assert relayed.source["content"]["formatted_body"] == (
        '<b>Ana</b>: <b>bold</b> <i>italic</i> <code>code</code> '
        '<a href="https://ohchr.org/">link</a>')
    await pair.alice.say(pair.room, "strong, struck, list", format="org.matrix.custom.html",
                         formatted_body="<strong>strong</strong>, <del>struck</del>"
                                        "<ul><li>one</li><li>two</li></ul>"
                                        '<span data-mx-spoiler>secret</span>')
    [copy] = await pair.api.wait_for(pair.on_telegram)
    assert copy.text == ("<b>alice</b>: <b>strong</b>, <s>struck</s>\n• one\n• two\n"
                         "<tg-spoiler>secret</tg-spoiler>")


async def test_replies_cross_through_message_links(pair: Pair):
    original = await pair.api.user_message(CAUCUS, pair.ana, "Who is going to Geneva?")
    [relayed] = await pair.alice.wait_for(pair.on_matrix)
    await pair.alice.say(pair.room, "> <@ana> Who is going to Geneva?\n\nI am",
                         **{"m.relates_to": {"m.in_reply_to": {"event_id": relayed.event_id}}})
    [answer] = await pair.api.wait_for(pair.on_telegram)
    assert answer.reply_to == original["message_id"] and answer.plain == "alice: I am"
    await pair.api.user_message(CAUCUS, pair.ana, "Great", reply_to=answer.message_id)
    copies = await pair.alice.wait_for(lambda: len(pair.on_matrix()) == 2 and pair.on_matrix())
    relates = copies[1].source["content"]["m.relates_to"]
    matrix_original = pair.alice.from_user(pair.room, pair.alice.user_id)[-1].event_id
    assert relates["m.in_reply_to"]["event_id"] == matrix_original


async def test_edits_cross_both_ways(pair: Pair):
    original = await pair.api.user_message(CAUCUS, pair.ana, "Meeting at 10")
    [relayed] = await pair.alice.wait_for(pair.on_matrix)
    await pair.api.user_edit(CAUCUS, original["message_id"], "Meeting at 11")

    def edits() -> list[Any]:
        return [e for e in pair.alice.from_user(pair.room, pair.bot.user_id)
                if "m.new_content" in e.source["content"]]

    [edit] = await pair.alice.wait_for(edits)
    content = edit.source["content"]
    assert content["m.relates_to"] == {"rel_type": "m.replace", "event_id": relayed.event_id}
    assert content["m.new_content"]["body"] == "Ana: Meeting at 11"
    mine = await pair.alice.say(pair.room, "See you there")
    [copy] = await pair.api.wait_for(pair.on_telegram)
    await pair.alice.say(pair.room, "* See you there!", **{
        "m.new_content": {"msgtype": "m.text", "body": "See you there!"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": mine}})
    await pair.api.wait_for(lambda: copy.edits)
    assert copy.plain == "alice: See you there!"


async def test_a_matrix_redaction_deletes_the_telegram_copy(pair: Pair):
    mine = await pair.alice.say(pair.room, "Oops, wrong room")
    [copy] = await pair.api.wait_for(pair.on_telegram)
    await pair.alice.client.room_redact(pair.room, mine, reason="wrong room")
    await pair.api.wait_for(lambda: copy.deleted)
    assert pair.on_telegram() == []


async def test_photos_and_files_cross(pair: Pair):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    await pair.api.user_message(CAUCUS, pair.ana, "The banner", photo=png)
    [image] = await pair.alice.wait_for(lambda: pair.on_matrix(RoomMessageImage))
    download = await pair.alice.client.download(image.url)
    assert isinstance(download, DownloadResponse) and download.body == png
    [caption] = pair.on_matrix()
    assert caption.body == "Ana: The banner"
    upload, _ = await pair.alice.client.upload(lambda *_: b"draft v2", content_type="text/plain",
                                               filename="draft.txt", filesize=8)
    await pair.alice.say(pair.room, "draft.txt", msgtype="m.file", url=upload.content_uri,
                         info={"mimetype": "text/plain", "size": 8})
    sent = await pair.api.wait_for(lambda: [s for s in pair.on_telegram() if s.document])
    assert sent[0].document == ("draft.txt", b"draft v2")
    assert sent[0].plain == "alice"


async def test_a_command_is_answered_once_and_shown_on_both_sides(pair: Pair):
    asked = await pair.api.user_message(CAUCUS, pair.ana, "/flag Egypt | Lawyer arrested")
    [answer] = await pair.api.wait_for(pair.on_telegram)
    assert answer.reply_to == asked["message_id"] and answer.plain.startswith("Case #1 flagged")
    notices = await pair.alice.wait_for(lambda: pair.on_matrix(RoomMessageNotice))
    [command] = pair.on_matrix()
    assert command.body == "Ana: /flag Egypt | Lawyer arrested"
    assert notices[0].body.startswith("Case #1 flagged")
    in_reply = notices[0].source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
    assert in_reply == command.event_id
    await pair.alice.say(pair.room, "!cases")
    sent = await pair.api.wait_for(lambda: len(pair.on_telegram()) == 3 and pair.on_telegram())
    assert sent[1].plain == "alice: !cases" and sent[2].plain.startswith("1 case")
    assert sent[2].reply_to == sent[1].message_id
    answers = await pair.alice.wait_for(lambda: len(pair.on_matrix(RoomMessageNotice)) >= 2 and
                                        pair.on_matrix(RoomMessageNotice))
    await pair.alice.sync(timeout_ms=500)
    assert len(answers) == 2 and answers[1].body.startswith("1 case")  # one answer each


async def test_a_confidential_flag_does_not_cross_the_bridge(pair: Pair):
    await pair.api.user_message(CAUCUS, pair.ana, "/flag Bahrain | Zainab summoned --confidential")
    [answer] = await pair.api.wait_for(pair.on_telegram)
    assert "recorded as confidential" in answer.plain
    await pair.api.user_message(CAUCUS, pair.ana, "after")
    await pair.alice.wait_for(pair.on_matrix)
    bodies = [e.body for e in pair.alice.from_user(pair.room, pair.bot.user_id)
              if hasattr(e, "body")]
    assert bodies == ["Ana: after"]


async def test_fifty_interleaved_messages_arrive_in_order_on_each_side(pair: Pair):
    for n in range(25):
        await pair.api.user_message(CAUCUS, pair.ana, f"tg {n}")
        await pair.alice.say(pair.room, f"mx {n}")
    on_matrix = await pair.alice.wait_for(lambda: len(pair.on_matrix()) >= 25 and
                                          pair.on_matrix(), seconds=60)
    on_telegram = await pair.api.wait_for(lambda: len(pair.on_telegram()) >= 25 and
                                          pair.on_telegram(), seconds=60)
    assert [e.body for e in on_matrix] == [f"Ana: tg {n}" for n in range(25)]
    assert [s.plain for s in on_telegram] == [f"alice: mx {n}" for n in range(25)]


async def test_confidential_words_typed_in_the_room_are_deleted_where_the_bot_may(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str):
    """Telegram: the bot is an admin that may delete messages. Matrix: its power level
    lets it redact. Each removes the message itself; without the right, each asks."""
    api.may_delete.add(CAUCUS)
    p = Pair(synapse, api, tmp_path, database_url)
    p.room = await p.alice.create_room(invite=[p.bot.user_id])
    # (Room version 12: the creator outranks everyone and is not listed.)
    put = await p.alice.client.room_put_state(p.room, "m.room.power_levels", {
        "users": {p.bot.user_id: 50}, "redact": 50})
    assert isinstance(put, RoomPutStateResponse), put
    try:
        await p.start()
        # The rights are read in the background after start: wait for that answer.
        await p.api.wait_for(lambda: any(m == "getChatMember" for m, _ in p.api.calls))
        asked = await p.api.user_message(CAUCUS, p.ana, "/case details 3 Ahmed Saleh, +20 100")
        [answer] = await p.api.wait_for(p.on_telegram)
        assert "I have deleted your message here" in answer.plain
        await p.api.wait_for(lambda: p.api.deleted_user_messages)
        assert p.api.deleted_user_messages == [(CAUCUS, asked["message_id"])]
        typed = await p.alice.say(p.room, "!case details 3 Ahmed Saleh, +20 100")
        [notice] = await p.alice.wait_for(lambda: p.on_matrix(RoomMessageNotice))
        assert "I have deleted your message here" in notice.body

        await p.alice.wait_redacted(p.room, typed)
        await p.alice.sync(timeout_ms=500)
        assert "Ahmed" not in " ".join(s.plain for s in p.on_telegram())
        assert all("Ahmed" not in e.body for e in p.on_matrix())
    finally:
        for service in p.services:
            await stop(service)
        await p.alice.close()


async def test_without_the_right_the_bot_asks_for_the_deletion(pair: Pair):
    await pair.api.user_message(CAUCUS, pair.ana, "/case details 3 Ahmed Saleh, +20 100")
    [answer] = await pair.api.wait_for(pair.on_telegram)
    assert "Please delete your message here" in answer.plain
    assert pair.api.deleted_user_messages == []


async def test_bridge_status_says_what_is_wrong_with_the_set_up_and_what_to_do(
        synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str):
    """Privacy mode on in BotFather, no right to delete on Telegram, no power to redact
    on Matrix: each is one line in /bridge status, with what to do."""
    api.privacy_mode = True
    p = Pair(synapse, api, tmp_path, database_url)
    try:
        await p.start()
        await p.api.wait_for(lambda: any(m == "getChatMember" for m, _ in p.api.calls))
        await p.alice.say(p.room, "!bridge status")
        [answer] = await p.alice.wait_for(lambda: p.on_matrix(RoomMessageNotice))
        assert "⚠ Telegram privacy mode is on" in answer.body  # under the pair it stops
        assert "/setprivacy" in answer.body
        assert "the bot is not an admin of the Telegram group Caucus" in answer.body
        assert "none there cross the bridge" in answer.body  # reactions: told only to admins
        assert "cannot redact messages in the Matrix room Caucus" in answer.body
    finally:
        for service in p.services:
            await stop(service)
        await p.alice.close()


@pytest.fixture
async def admin_pair(synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str
                     ) -> AsyncIterator[Pair]:
    """A pair where the bot is a Telegram admin that may delete messages."""
    api.may_delete.add(CAUCUS)
    p = Pair(synapse, api, tmp_path, database_url)
    await p.start()
    await api.wait_for(lambda: any(m == "getChatMember" for m, _ in api.calls))
    yield p
    for service in p.services:
        await stop(service)
    await p.alice.close()


async def test_an_admin_deletes_a_bridged_message_on_both_sides(admin_pair: Pair):
    """Telegram tells bots nothing of deletions: /delete, as a reply, removes both copies."""
    pair = admin_pair
    api, alice, room = pair.api, pair.alice, pair.room
    said = await api.user_message(CAUCUS, pair.ana, "The lawyer is Ahmed Saleh, +20 100")
    [copy] = await alice.wait_for(pair.on_matrix)
    command = await api.user_message(CAUCUS, api.user(1, "Admin"), "/delete",
                                     reply_to=said["message_id"])
    await api.wait_for(lambda: len(api.deleted_user_messages) == 2)
    assert api.deleted_user_messages == [(CAUCUS, said["message_id"]),
                                         (CAUCUS, command["message_id"])]

    await alice.wait_redacted(room, copy.event_id)
    # From Matrix, on the bot's copy of a Telegram message: the original goes.
    second = await api.user_message(CAUCUS, pair.ana, "Wrong group, sorry")
    copies = await alice.wait_for(lambda: len(pair.on_matrix()) == 2 and pair.on_matrix())
    await alice.say(room, "!delete", **{"m.relates_to": {"m.in_reply_to": {
        "event_id": copies[1].event_id}}})
    await api.wait_for(lambda: (CAUCUS, second["message_id"]) in api.deleted_user_messages)
    assert all("/delete" not in s.plain for s in pair.on_telegram())  # it never crossed
