"""The real matrix-nio bot against a real Synapse on 127.0.0.1, with nio clients as people."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nio import DownloadResponse, RoomMessageFile, RoomMessageImage, RoomMessageNotice
from sqlalchemy import text
from sqlmodel import delete, select

from bot.service import Service
from storage.outbox import OutboxMessage
from tests.integration.conftest import lock_the_database_once, stop
from tests.integration.matrix_fixtures import Human, matrix_config
from tests.synapse_server import Synapse

pytestmark = pytest.mark.integration


class World:
    def __init__(self, synapse: Synapse, tmp_path: Path, database_url: str):
        self.synapse = synapse
        self.tmp = tmp_path
        self.database_url = database_url
        accounts = synapse.accounts  # type: ignore[attr-defined]
        self.bot = synapse.login(accounts["caucusbot"])  # a fresh device for each test
        self.alice = Human(synapse, synapse.login(accounts["alice"]), tmp_path / "alice")
        self.bob = Human(synapse, synapse.login(accounts["bob"]), tmp_path / "bob")
        self.services: list[Service] = []

    async def start(self, rooms: list[dict[str, Any]]) -> Service:
        config = matrix_config(self.synapse, self.bot, self.tmp,
                               admins=[f"matrix:{self.alice.user_id}"], rooms=rooms,
                               database_url=self.database_url)
        service = Service(config, poll_timeout=1, outbox_poll_seconds=0.2)
        await service.start()
        self.services.append(service)
        return service

    def notices(self, human: Human, room_id: str) -> list[Any]:
        return [e for e in human.from_user(room_id, self.bot.user_id)
                if isinstance(e, RoomMessageNotice | RoomMessageFile | RoomMessageImage)]


@pytest.fixture
async def world(synapse: Synapse, tmp_path: Path, database_url: str) -> AsyncIterator[World]:
    w = World(synapse, tmp_path, database_url)
    yield w
    for service in w.services:
        if not service.stopped.is_set():
            await stop(service)
    await w.alice.close()
    await w.bob.close()


async def caucus(world: World, *, encrypted: bool = False, secure: bool = False,
                 ) -> tuple[str, Service]:
    room_id = await world.alice.create_room(invite=[world.bot.user_id], encrypted=encrypted)
    service = await world.start([{"name": "Caucus", "matrix_room_id": room_id,
                                  "secure": secure}])
    await world.alice.wait_member(room_id, world.bot.user_id)
    return room_id, service


async def test_a_command_gets_a_notice_with_html_in_reply(world: World):
    room_id, _ = await caucus(world)
    asked = await world.alice.say(room_id, "!whoami")
    [notice] = await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    content = notice.source["content"]
    assert content["msgtype"] == "m.notice"
    assert content["body"].startswith(f"You: alice — id matrix:{world.alice.user_id}, role admin")
    assert f"<code>matrix:{world.alice.user_id}</code>" in content["formatted_body"]
    assert content["format"] == "org.matrix.custom.html"
    assert content["m.relates_to"]["m.in_reply_to"]["event_id"] == asked


async def test_slash_works_too_and_chat_stays_chat(world: World):
    room_id, _ = await caucus(world)
    await world.alice.say(room_id, "!important: the draft is out")
    await world.alice.say(room_id, "/whoami")
    [notice] = await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    assert notice.body.startswith("You:")


async def test_an_export_arrives_as_a_file(world: World):
    room_id, _ = await caucus(world, secure=True)
    await world.alice.say(room_id, "!flag Egypt | Lawyer arrested")
    await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    await world.alice.say(room_id, "!case export")
    files = await world.alice.wait_for(lambda: [e for e in world.notices(world.alice, room_id)
                                                if isinstance(e, RoomMessageFile)])
    assert files[0].body.startswith("cases-") and files[0].body.endswith(".csv")
    download = await world.alice.client.download(files[0].url)
    assert isinstance(download, DownloadResponse)
    rows = list(csv.DictReader(io.StringIO(download.body.decode("utf-8-sig"))))
    assert rows[0]["summary"] == "Lawyer arrested"


async def test_the_indicators_chart_arrives_as_an_image(world: World):
    room_id, _ = await caucus(world, secure=True)
    await world.alice.say(room_id, "!indicators")
    images = await world.alice.wait_for(lambda: [e for e in world.notices(world.alice, room_id)
                                                 if isinstance(e, RoomMessageImage)])
    assert images[0].body.startswith("indicators-") and images[0].body.endswith(".png")
    download = await world.alice.client.download(images[0].url)
    assert isinstance(download, DownloadResponse)
    assert download.body.startswith(b"\x89PNG\r\n\x1a\n")


async def test_hostile_html_is_escaped_in_formatted_body(world: World):
    room_id, _ = await caucus(world)
    hostile = '<img src=x onerror="alert(1)">Alice'
    await world.alice.client.set_displayname(hostile)
    await world.alice.wait_for(  # the new name has reached the room's state
        lambda: world.alice.client.rooms[room_id].user_name(world.alice.user_id) == hostile)
    await world.alice.say(room_id, "!flag Egypt | <b>not bold</b> & <script>x</script>")
    await world.alice.say(room_id, "!whoami")
    notices = await world.alice.wait_for(
        lambda: len(world.notices(world.alice, room_id)) == 2 and world.notices(world.alice,
                                                                              room_id))
    html = " ".join(n.source["content"]["formatted_body"] for n in notices)
    assert "<img" not in html and "<script>" not in html and "<b>not bold" not in html
    assert "&lt;img src=x" in html and "&lt;script&gt;" in html
    await world.alice.client.set_displayname("alice")  # the profile is shared by all tests


async def test_a_room_joined_at_the_first_start_is_never_reported_missing(
        world: World, caplog: pytest.LogCaptureFixture):
    """The first start joins the rooms it was invited to; the set-up check must wait for
    the join to show in a sync, not warn the operator that the bot is not in them."""
    caplog.set_level(logging.WARNING, logger="bot.adapter")
    room_id, _ = await caucus(world)
    await world.alice.say(room_id, "!whoami")
    await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    assert "is not in the Matrix room" not in caplog.text


async def test_invites_from_strangers_are_declined_admins_are_joined(world: World):
    await caucus(world)
    strangers = await world.bob.create_room(invite=[world.bot.user_id], name="Random")
    admins = await world.alice.create_room(invite=[world.bot.user_id], name="New room")
    await world.alice.wait_member(admins, world.bot.user_id)
    await world.bob.wait_for(lambda: world.bot.user_id not in
                             world.bob.client.rooms[strangers].invited_users)
    assert world.bot.user_id not in world.bob.client.rooms[strangers].users
    await world.bob.say(strangers, "!help")
    await world.bob.sync(timeout_ms=1000)
    assert world.notices(world.bob, strangers) == []


async def test_a_direct_message_gets_a_short_help(world: World):
    await caucus(world)
    dm = await world.bob.create_room(invite=[world.bot.user_id], name="", direct=True)
    await world.bob.wait_member(dm, world.bot.user_id)
    await world.bob.say(dm, "hello?")
    [hint] = await world.bob.wait_for(lambda: world.notices(world.bob, dm))
    assert hint.body == "I answer commands: !help lists the ones you can use here, !start says " \
                        "what I do."


async def test_restart_resumes_from_the_stored_token_without_repeats(world: World):
    room_id, first = await caucus(world)
    await world.alice.say(room_id, "!flag Egypt | Lawyer arrested")
    await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    await stop(first)
    await world.alice.say(room_id, "!cases")  # while the bot is down
    await world.start([{"name": "Caucus", "matrix_room_id": room_id}])
    notices = await world.alice.wait_for(
        lambda: len(world.notices(world.alice, room_id)) >= 2 and world.notices(world.alice,
                                                                               room_id))
    await world.alice.sync(timeout_ms=1500)
    bodies = [n.body.split("\n")[0] for n in world.notices(world.alice, room_id)]
    assert bodies == ["Case #1 flagged: Egypt — Lawyer arrested",
                      "1 case, newest first (page 1 of 1):"]
    assert len(notices) == 2


async def test_an_event_the_database_could_not_record_is_read_again(world: World):
    """The database was locked (or full) for a moment: the command must not be lost, and
    what was recorded before the failure must not be answered twice."""
    room_id, service = await caucus(world)
    await world.alice.say(room_id, "!whoami")
    await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    calls = lock_the_database_once(service)
    await world.alice.say(room_id, "!flag Egypt | Lawyer arrested")
    notices = await world.alice.wait_for(
        lambda: len(world.notices(world.alice, room_id)) >= 2 and world.notices(world.alice,
                                                                               room_id))
    await world.alice.sync(timeout_ms=1500)
    bodies = [n.body.split("\n")[0] for n in world.notices(world.alice, room_id)]
    assert bodies[1:] == ["Case #1 flagged: Egypt — Lawyer arrested"]
    assert len(notices) == 2
    assert calls == ["!flag Egypt | Lawyer arrested"] * 2


async def test_encrypted_room_round_trip(world: World):
    room_id, _ = await caucus(world, encrypted=True)
    assert world.alice.client.rooms[room_id].encrypted
    await world.alice.sync()
    await world.alice.say(room_id, "!whoami")
    [notice] = await world.alice.wait_for(lambda: world.notices(world.alice, room_id), seconds=30)
    assert notice.body.startswith("You: ")  # decrypted by Alice's own device
    assert f"id matrix:{world.alice.user_id}" in notice.body
    assert notice.source["content"]["msgtype"] == "m.notice"
    assert (world.tmp / "matrix-store").is_dir()  # the device's keys persist there


async def test_an_outbox_id_given_out_again_still_reaches_the_room(world: World):
    """A database restored from a backup gives out outbox ids again. Synapse takes a send
    under a transaction id it has seen for a retry, answers with the old event and shows
    nothing: the new message would be lost while recorded as sent."""
    room_id, service = await caucus(world)
    await world.alice.say(room_id, "!whoami")
    await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    with service.database.session() as db:  # the restore: the row as if never queued
        db.exec(delete(OutboxMessage))  # type: ignore[call-overload]
        if db.get_bind().dialect.name == "postgresql":  # pg_restore brings its counter back
            db.exec(text("SELECT setval(pg_get_serial_sequence(:table, 'id'), 1, false)"),
                    params={"table": OutboxMessage.__tablename__})
        db.commit()
    await world.alice.say(room_id, "!help")
    notices = await world.alice.wait_for(
        lambda: len(world.notices(world.alice, room_id)) >= 2 and world.notices(world.alice,
                                                                               room_id))
    assert notices[0].body.startswith("You: ")
    assert "whoami" in notices[1].body and not notices[1].body.startswith("You: ")
    with service.database.session() as db:
        [row] = db.exec(select(OutboxMessage)).all()
    assert row.id == 1  # the same id as the first answer's


async def test_history_before_the_bot_joined_is_not_answered(world: World):
    room_id = await world.alice.create_room(invite=[world.bot.user_id])
    await world.alice.say(room_id, "!whoami")  # before the bot ever ran
    await world.start([{"name": "Caucus", "matrix_room_id": room_id}])
    await world.alice.wait_member(room_id, world.bot.user_id)
    await world.alice.say(room_id, "!start")
    [notice] = await world.alice.wait_for(lambda: world.notices(world.alice, room_id))
    await world.alice.sync(timeout_ms=1500)
    assert len(world.notices(world.alice, room_id)) == 1
    assert "helps the coalition" in notice.body


async def test_password_login_keeps_its_device_across_restarts(world: World):
    room_id = await world.alice.create_room(invite=[world.bot.user_id])
    accounts = world.synapse.accounts  # type: ignore[attr-defined]
    config = matrix_config(world.synapse, world.bot, world.tmp,
                           admins=[f"matrix:{world.alice.user_id}"],
                           rooms=[{"name": "Caucus", "matrix_room_id": room_id}])
    from dataclasses import replace

    assert config.matrix is not None
    config = replace(config, matrix=replace(config.matrix, access_token=None, device_id=None,
                                            password=accounts["caucusbot"].password))
    devices = []
    for _ in range(2):
        service = Service(config, poll_timeout=1, outbox_poll_seconds=0.2)
        await service.start()
        devices.append(service.adapters[0].client.device_id)
        await stop(service)
    assert devices[0] and devices[0] == devices[1]
