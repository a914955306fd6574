"""One forum topic of a Telegram group paired with a Matrix room of its own.

The group CAUCUS is paired with one Matrix room as a whole, and its topic "Bahrain"
with another (``telegram_topic_id``): what is said in the topic reaches that room as
plain messages, not as a thread of the group's room, and what is said in that room
reaches the topic (``message_thread_id``): replies, edits, files and reactions too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nio import RoomMessageText

from tests.botapi_double import BotApiDouble
from tests.integration.bridge_pair import Pair
from tests.integration.conftest import CAUCUS, stop
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration
OGG = b"OggS\x00\x02" + bytes(range(200))


class TopicPair(Pair):
    """CAUCUS as a whole <-> ``room``; its topic ``topic`` <-> ``topic_room``."""

    topic = 0
    topic_room = ""

    def config_data(self) -> dict[str, Any]:
        data = super().config_data()
        data["rooms"].append({"name": "Bahrain", "telegram_chat_id": CAUCUS,
                              "telegram_topic_id": self.topic,
                              "matrix_room_id": self.topic_room})
        return data

    async def in_topic(self, text: str = "", reply_to: int | None = None,
                       **extra: Any) -> dict[str, Any]:
        """Ana posts in the topic: Telegram makes every message of a topic "reply" to the
        topic's creation message, unless it replies to another message of it."""
        return await self.api.user_message(
            CAUCUS, self.ana, text, reply_to=reply_to or self.topic,
            extra={"message_thread_id": self.topic, "is_topic_message": True, **extra})

    def in_topic_room(self, kind: type = RoomMessageText) -> list[Any]:
        return [e for e in self.alice.from_user(self.topic_room, self.bot.user_id)
                if isinstance(e, kind) and "m.new_content" not in e.source["content"]]


@pytest.fixture
async def topics(synapse: Synapse, api: BotApiDouble, tmp_path: Path, database_url: str
                 ) -> AsyncIterator[TopicPair]:
    p = TopicPair(synapse, api, tmp_path, database_url)
    created = await api.user_message(CAUCUS, p.ana, extra={
        "forum_topic_created": {"name": "Bahrain", "icon_color": 7322096},
        "is_topic_message": True})
    p.topic = created["message_id"]
    p.room = await p.alice.create_room(invite=[p.bot.user_id])
    p.topic_room = await p.alice.create_room(invite=[p.bot.user_id], name="Bahrain")
    await p.start()
    await p.alice.wait_member(p.topic_room, p.bot.user_id)
    yield p
    for service in p.services:
        await stop(service)
    await p.alice.close()


async def test_the_topic_and_its_room_speak_to_each_other_and_to_no_one_else(
        topics: TopicPair):
    p, api, alice = topics, topics.api, topics.alice
    said = await p.in_topic("Hearing moved to Monday")
    [copy] = await alice.wait_for(p.in_topic_room)
    assert copy.body == "Ana: Hearing moved to Monday"
    assert "m.relates_to" not in copy.source["content"]  # a message of the room, not a thread
    await api.user_message(CAUCUS, p.ana, "General business")
    [general] = await alice.wait_for(p.on_matrix)
    assert general.body == "Ana: General business"  # the group's own room got only this
    assert [e.body for e in p.in_topic_room()] == ["Ana: Hearing moved to Monday"]

    # Matrix -> the topic, a reply to Ana's message there.
    await alice.say(p.topic_room, "> <@ana> Hearing moved\n\nWho attends?", **{
        "m.relates_to": {"m.in_reply_to": {"event_id": copy.event_id}}})
    [answer] = await api.wait_for(p.on_telegram)
    assert (answer.plain, answer.thread, answer.reply_to) == (
        "alice: Who attends?", p.topic, said["message_id"])
    # ... and Ana's answer to it comes back as a reply in the topic's room.
    await p.in_topic("I do", reply_to=answer.message_id)
    replies = await alice.wait_for(lambda: len(p.in_topic_room()) == 2 and p.in_topic_room())
    mine = alice.from_user(p.topic_room, alice.user_id)[-1]
    assert replies[1].body == "Ana: I do"
    assert replies[1].source["content"]["m.relates_to"] == {
        "m.in_reply_to": {"event_id": mine.event_id}}

    # A command in the topic is answered in the topic, and knows the room it is in.
    await p.in_topic("/whoami")
    whoami = await api.wait_for(lambda: [s for s in p.on_telegram() if "You:" in s.plain])
    assert whoami[0].thread == p.topic and f"telegram:{CAUCUS}/{p.topic}" in whoami[0].plain


async def test_edits_files_and_reactions_cross_between_the_topic_and_its_room(
        topics: TopicPair):
    p, api, alice = topics, topics.api, topics.alice
    api.may_delete.add(CAUCUS)  # Telegram tells only admins of reactions
    said = await p.in_topic("Meeting at 10")
    [copy] = await alice.wait_for(p.in_topic_room)
    await api.user_edit(CAUCUS, said["message_id"], "Meeting at 11")

    def edits() -> list[Any]:
        return [e for e in alice.from_user(p.topic_room, p.bot.user_id)
                if "m.new_content" in e.source["content"]]
    [edit] = await alice.wait_for(edits)
    assert edit.source["content"]["m.new_content"]["body"] == "Ana: Meeting at 11"

    mine = await alice.say(p.topic_room, "See you there")
    [relayed] = await api.wait_for(p.on_telegram)
    await alice.say(p.topic_room, "* See you there!", **{
        "m.new_content": {"msgtype": "m.text", "body": "See you there!"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": mine}})
    await api.wait_for(lambda: relayed.edits)
    assert relayed.plain == "alice: See you there!" and relayed.thread == p.topic

    # Files: a voice note from the topic, a document into it.
    await p.in_topic(voice=api.stored_file(OGG, duration=3, mime_type="audio/ogg"))
    voice = await alice.wait_for(lambda: [e for e in alice.from_user(p.topic_room,
                                                                     p.bot.user_id)
                                          if e.source["content"].get("msgtype") == "m.audio"])
    assert "org.matrix.msc3245.voice" in voice[0].source["content"]
    upload, _ = await alice.client.upload(lambda *_: b"draft v3", content_type="text/plain",
                                          filename="draft.txt", filesize=8)
    await alice.say(p.topic_room, "draft.txt", msgtype="m.file", url=upload.content_uri,
                    info={"mimetype": "text/plain", "size": 8})
    [document] = await api.wait_for(lambda: [s for s in p.on_telegram() if s.document])
    assert document.document == ("draft.txt", b"draft v3") and document.thread == p.topic

    # Reactions: Ana's on Alice's relayed message (the update names no topic), and back.
    assert await api.user_reaction(CAUCUS, p.ana, relayed.message_id, [], ["👍"])
    reaction = await alice.wait_for(lambda: [e for e in alice.from_user(p.topic_room,
                                                                        p.bot.user_id)
                                             if e.source["type"] == "m.reaction"])
    assert reaction[0].source["content"]["m.relates_to"] == {
        "rel_type": "m.annotation", "event_id": mine, "key": "👍"}
    await alice.client.room_send(p.topic_room, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": copy.event_id, "key": "🔥"}},
        ignore_unverified_devices=True)
    key = (CAUCUS, said["message_id"])
    await api.wait_for(lambda: api.bot_reactions.get(key))
    assert api.bot_reactions[key] == ["🔥"]
    assert p.on_matrix() == []  # the group's own room saw none of it
