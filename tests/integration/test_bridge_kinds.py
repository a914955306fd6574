"""Every kind of message a group sends crosses the bridge, both ways, or is announced.

Real Synapse, the Bot API double, the real bot between them: a voice note arrives as
a voice note, a video as a video, a sticker as a sticker, a place as a place, a poll
as its question and answers; what a network cannot show is announced, never dropped.
"""

from __future__ import annotations

from typing import Any

import pytest
from nio import DownloadResponse

from tests.integration.bridge_pair import Pair
from tests.integration.conftest import CAUCUS

pytestmark = pytest.mark.integration

OGG = b"OggS\x00\x02" + bytes(range(200))  # enough of an Ogg/Opus file to be one
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(300)
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(64)


def bot_events(p: Pair) -> list[Any]:
    """What the bot posted in the Matrix room, edits left out."""
    return [e for e in p.alice.from_user(p.room, p.bot.user_id)
            if "m.new_content" not in e.source.get("content", {})]


def with_content(p: Pair, **wanted: Any) -> list[dict[str, Any]]:
    return [e.source["content"] for e in bot_events(p)
            if all(e.source.get("content", {}).get(k) == v for k, v in wanted.items())]


def statuses(p: Pair) -> list[str]:
    return [c["body"] for c in with_content(p, msgtype="m.notice") if "bridged pair" in c["body"]]


async def downloaded(p: Pair, content: dict[str, Any]) -> bytes:
    response = await p.alice.client.download(content["url"])
    assert isinstance(response, DownloadResponse), response
    return bytes(response.body)


async def test_telegram_voice_video_audio_gif_and_sticker_arrive_as_themselves(pair: Pair):
    api = pair.api
    await api.user_message(CAUCUS, pair.ana, extra={"voice": api.stored_file(
        OGG, duration=3, mime_type="audio/ogg")})
    [voice] = await pair.alice.wait_for(lambda: with_content(pair, msgtype="m.audio"))
    assert "org.matrix.msc3245.voice" in voice and voice["info"]["duration"] == 3000
    assert voice["info"]["mimetype"] == "audio/ogg" and await downloaded(pair, voice) == OGG
    await api.user_message(CAUCUS, pair.ana, "From the courthouse", extra={
        "video": api.stored_file(MP4, duration=12, width=640, height=360,
                                 mime_type="video/mp4", file_name="court.mp4")})
    [video] = await pair.alice.wait_for(lambda: with_content(pair, msgtype="m.video"))
    assert (video["info"]["w"], video["info"]["h"], video["info"]["duration"]) == (
        640, 360, 12000)
    assert any(c.get("body") == "Ana: From the courthouse" for c in with_content(pair))
    await api.user_message(CAUCUS, pair.ana, extra={"video_note": api.stored_file(
        MP4, duration=5, length=240)})
    await pair.alice.wait_for(lambda: len(with_content(pair, msgtype="m.video")) == 2)
    gif = api.stored_file(MP4, duration=2, width=200, height=100, mime_type="video/mp4",
                          file_name="wave.mp4")
    await api.user_message(CAUCUS, pair.ana, extra={"animation": gif, "document": gif})
    await pair.alice.wait_for(lambda: len(with_content(pair, msgtype="m.video")) == 3)
    await api.user_message(CAUCUS, pair.ana, extra={"audio": api.stored_file(
        b"ID3" + bytes(100), duration=61, mime_type="audio/mpeg", file_name="statement.mp3")})
    await pair.alice.wait_for(lambda: len(with_content(pair, msgtype="m.audio")) == 2)
    await api.user_message(CAUCUS, pair.ana, extra={"sticker": api.stored_file(
        WEBP, type="regular", width=512, height=512, is_animated=False, is_video=False,
        emoji="👍")})
    stickers = await pair.alice.wait_for(
        lambda: [e for e in bot_events(pair) if e.source["type"] == "m.sticker"])
    assert await downloaded(pair, stickers[0].source["content"]) == WEBP
    assert len(with_content(pair, msgtype="m.video")) == 3  # the GIF went once, not twice


async def test_telegram_places_polls_and_contacts_cross_or_are_announced(pair: Pair):
    api = pair.api
    await api.user_message(CAUCUS, pair.ana, extra={"venue": {
        "location": {"latitude": 46.2267, "longitude": 6.1404},
        "title": "Palais des Nations", "address": "Avenue de la Paix 14"},
        "location": {"latitude": 46.2267, "longitude": 6.1404}})
    [place] = await pair.alice.wait_for(lambda: with_content(pair, msgtype="m.location"))
    assert place["geo_uri"] == "geo:46.2267,6.1404"
    assert place["body"] == ("Ana shared a location: Palais des Nations, Avenue de la Paix 14")
    await api.user_message(CAUCUS, pair.ana, extra={"poll": {
        "id": "p1", "question": "Side event on Tuesday?", "total_voter_count": 0,
        "is_closed": False, "is_anonymous": True, "type": "regular",
        "allows_multiple_answers": False, "allows_revoting": True, "members_only": False,
        "options": [{"persistent_id": "a", "text": "Yes", "voter_count": 0},
                    {"persistent_id": "b", "text": "No", "voter_count": 0}]}})
    await api.user_message(CAUCUS, pair.ana, extra={"contact": {
        "phone_number": "+41 22 000 00 00", "first_name": "Omar"}})
    texts = await pair.alice.wait_for(
        lambda: len(with_content(pair, msgtype="m.text")) >= 2 and
        [c["body"] for c in with_content(pair, msgtype="m.text")])
    assert texts[0] == ("Ana: 📊 Poll: Side event on Tuesday?\n1. Yes\n2. No\n"
                        "(vote on the other side)")
    assert texts[1] == "Ana sent a contact card (not bridged: see the other side)"
    assert "+41" not in " ".join(texts)  # an announcement, not the card


async def upload(p: Pair, data: bytes, mime: str, name: str) -> str:
    response, _ = await p.alice.client.upload(lambda *_: data, content_type=mime,
                                              filename=name, filesize=len(data))
    return str(response.content_uri)


async def test_matrix_voice_audio_video_sticker_place_and_poll_reach_telegram(pair: Pair):
    alice, room = pair.alice, pair.room
    url = await upload(pair, OGG, "audio/ogg", "voice.ogg")
    await alice.say(room, "Voice message", msgtype="m.audio", url=url,
                    info={"mimetype": "audio/ogg", "size": len(OGG), "duration": 4000},
                    **{"org.matrix.msc3245.voice": {},
                       "org.matrix.msc1767.audio": {"duration": 4000}})
    [voice] = await pair.api.wait_for(pair.on_telegram)
    assert voice.method == "sendVoice" and voice.media == ("Voice message", OGG)
    assert voice.plain == "alice"
    url = await upload(pair, b"ID3" + bytes(50), "audio/mpeg", "talk.mp3")
    await alice.say(room, "talk.mp3", msgtype="m.audio", url=url,
                    info={"mimetype": "audio/mpeg", "size": 53, "duration": 61000})
    url = await upload(pair, MP4, "video/mp4", "march.mp4")
    await alice.say(room, "march.mp4", msgtype="m.video", url=url,
                    info={"mimetype": "video/mp4", "size": len(MP4), "w": 640, "h": 360})
    sticker = await upload(pair, b"\x89PNG\r\n\x1a\n" + bytes(40), "image/png", "cat.png")
    await alice.client.room_send(room, "m.sticker", {
        "body": "cat", "url": sticker, "info": {"mimetype": "image/png", "w": 256, "h": 256}},
        ignore_unverified_devices=True)
    await alice.say(room, "Palais des Nations", msgtype="m.location",
                    geo_uri="geo:46.2267,6.1404")
    await alice.client.room_send(room, "org.matrix.msc3381.poll.start", {
        "org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.text": "Join the letter?"},
            "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
            "answers": [{"id": "y", "org.matrix.msc1767.text": "Yes"},
                        {"id": "n", "org.matrix.msc1767.text": "No"}]},
        "org.matrix.msc1767.text": "Join the letter?\n1. Yes\n2. No"},
        ignore_unverified_devices=True)
    await alice.say(room, "?", msgtype="org.example.custom")
    sent = await pair.api.wait_for(lambda: len(pair.on_telegram()) >= 7 and pair.on_telegram())
    assert [s.method for s in sent] == ["sendVoice", "sendAudio", "sendVideo", "sendPhoto",
                                        "sendVenue", "sendMessage", "sendMessage"]
    assert sent[2].media == ("march.mp4", MP4)
    assert sent[4].place == {"location": {"latitude": 46.2267, "longitude": 6.1404},
                             "title": "alice shared a location: Palais des Nations",
                             "address": "Palais des Nations"}
    assert sent[5].plain == ("alice: 📊 Poll: Join the letter?\n1. Yes\n2. No\n"
                             "(vote on the other side)")
    assert sent[6].plain == ("alice sent a message of a kind the bridge does not carry "
                             "(org.example.custom) (not bridged: see the other side)")


async def test_reactions_cross_both_ways_and_are_taken_back(pair: Pair):
    """Telegram tells a bot of reactions only when it is an admin of the group."""
    api, alice, room = pair.api, pair.alice, pair.room
    api.may_delete.add(CAUCUS)
    said = await api.user_message(CAUCUS, pair.ana, "We filed the communication")
    [copy] = await alice.wait_for(lambda: with_content(pair, msgtype="m.text"))
    relayed = next(e for e in bot_events(pair) if e.source["content"] is copy)
    # Telegram -> Matrix: on the copy; taken back, the Matrix reaction is redacted.
    assert await api.user_reaction(CAUCUS, pair.ana, said["message_id"], [], ["👍"])

    def reactions() -> list[Any]:
        return [e for e in bot_events(pair) if e.source["type"] == "m.reaction"]

    [reaction] = await alice.wait_for(reactions)
    assert reaction.source["content"]["m.relates_to"] == {
        "rel_type": "m.annotation", "event_id": relayed.event_id, "key": "👍"}
    await api.user_reaction(CAUCUS, pair.ana, said["message_id"], ["👍"], [])

    await alice.wait_redacted(room, reaction.event_id)
    # Matrix -> Telegram: ❤️ (with its variation selector) is Telegram's ❤.
    mine = await alice.client.room_send(room, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": relayed.event_id, "key": "❤️"}},
        ignore_unverified_devices=True)
    key = (CAUCUS, said["message_id"])
    await api.wait_for(lambda: api.bot_reactions.get(key))
    assert api.bot_reactions[key] == ["❤"]
    # Were Telegram to report the bot's own reaction, it must not come back as new.
    await api.user_reaction(CAUCUS, api.bot_user(), said["message_id"], [], ["❤"])
    await alice.client.room_redact(room, mine.event_id)
    await api.wait_for(lambda: api.bot_reactions.get(key) == [])
    # An emoji Telegram does not let bots use: nothing is set, and /bridge status counts it.
    await alice.client.room_send(room, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": relayed.event_id, "key": "🦜"}},
        ignore_unverified_devices=True)
    for asked in range(1, 6):  # the refusal is recorded as the row is tried
        await alice.say(room, "!bridge status")
        status = await alice.wait_for(lambda n=asked: len(statuses(pair)) == n and
                                      statuses(pair))
        if "failed 1" in status[-1]:
            break
    assert "failed 1" in status[-1] and "Telegram does not let bots react with 🦜" in status[-1]
    assert len(reactions()) == 1  # only Ana's 👍 ever reached Matrix
    assert api.bot_reactions[key] == []


async def test_a_forum_topic_is_a_matrix_thread_and_back(pair: Pair):
    """A Telegram forum group's topic becomes a thread under a root naming the topic; an
    answer in that thread on Matrix goes back into the topic."""
    api, alice, room = pair.api, pair.alice, pair.room
    created = await api.user_message(CAUCUS, pair.ana, extra={
        "forum_topic_created": {"name": "Bahrain", "icon_color": 7322096},
        "is_topic_message": True})
    topic = created["message_id"]
    await api.user_message(CAUCUS, pair.ana, "Hearing moved to Monday", reply_to=topic,
                           extra={"message_thread_id": topic, "is_topic_message": True})
    texts = await alice.wait_for(lambda: len(pair.on_matrix()) >= 2 and pair.on_matrix())
    root, message = texts[0], texts[1]
    assert root.body == "📂 Topic: Bahrain"
    assert message.body == "Ana: Hearing moved to Monday"  # not quoted as a reply
    assert message.source["content"]["m.relates_to"] == {
        "rel_type": "m.thread", "event_id": root.event_id, "is_falling_back": True,
        "m.in_reply_to": {"event_id": root.event_id}}
    await alice.say(room, "Noted, thanks", **{"m.relates_to": {
        "rel_type": "m.thread", "event_id": root.event_id, "is_falling_back": True,
        "m.in_reply_to": {"event_id": message.event_id}}})
    [answer] = await api.wait_for(pair.on_telegram)
    assert answer.plain == "alice: Noted, thanks" and answer.reply_to == topic
