"""What may cross the bridge: decided before a command runs, whether it succeeds or fails.

Each case here typed a defender's name, a phone number or an unlisted organisation in a
bridged ordinary room; none of it may reach the paired room, and the answer must not
repeat it there either.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.events import Event
from bot.inbound import Inbound
from bot.replies import Reply
from storage.outbox import OutboxMessage
from tests.harness import FakeBot, Network

SECRET = "Ahmed Saleh +20 100 555 0199"
ORG = "Voices Network"


@pytest.fixture
async def bridged(tmp_path: Path, net: Network, database_url: str):  # type: ignore[no-untyped-def]
    fake = FakeBot(tmp_path, net, database_url=database_url)
    await fake.send(f"/role grant {net.user(9)} secretariat", user=fake.admin)
    await fake.send("/statement new Letter deadline=2026-12-01", user=net.user(9))
    yield fake
    fake.close()


def partner(net: Network) -> str:
    return "matrix:!ordinary:example.org" if net.name == "telegram" else "telegram:-5"


class Room:
    """A bridged ordinary room seen through Inbound, as the adapters feed it."""

    def __init__(self, bot: FakeBot):
        self.bot = bot
        self.inbound = Inbound(bot.dispatcher, bot.database, lambda: bot.now, lambda *r, **q: None)
        self.n = 100

    async def say(self, text: str, user: int = 1) -> str:
        self.n += 1
        await self.inbound.receive(Event(
            platform=self.bot.net.name, room_id=self.bot.net.room, message_id=str(self.n),
            sender_id=self.bot.net.user(user), sender_name=f"Member {user}", text=text,
            timestamp=self.bot.now))
        return self.answers()[-1]

    def rows(self, room: str) -> list[OutboxMessage]:
        with self.bot.database.session() as db:
            return list(db.exec(select(OutboxMessage).where(OutboxMessage.room_id == room)
                                .order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]

    def answers(self) -> list[str]:
        return [Reply.from_json(r.payload).plain() for r in self.rows(self.bot.net.room)
                if r.kind == "reply"]

    def crossed(self) -> str:
        """Everything queued for the paired room, as one text."""
        return "\n".join(r.payload for r in self.rows(partner(self.bot.net)))


@pytest.mark.parametrize("command", [
    f"/flag Egpyt | {SECRET} detained confidential",  # a typo in the country
    f"/flag Egypt | {SECRET} detained --confidential",
    f'/flag Egypt | "{SECRET} detained confidential',  # an unbalanced quote
    f"/case details 99 {SECRET}",  # no such case
    f"/case detials 1 {SECRET}",  # a typo in the sub-command
    f"/case note 99 {SECRET}",  # no such case: it may be a confidential one mistyped
    f"/signon S7 {SECRET} | Bahrain unlisted",  # no such statement
    f"/signon S1 {SECRET} | Bahrain unlisted",
    f'/withdraw S1 "{SECRET}"',
])
async def test_a_confidential_command_never_crosses_whether_it_succeeds_or_fails(
        bridged: FakeBot, command: str):
    room = Room(bridged)
    answer = await room.say(command)
    assert room.crossed() == ""
    assert SECRET not in answer
    assert "Please delete your message here" in answer


async def test_an_ordinary_command_and_its_answer_still_cross(bridged: FakeBot):
    room = Room(bridged)
    await room.say("/flag Egypt | Lawyer arrested at the airport")
    crossed = room.crossed()
    assert "Lawyer arrested at the airport" in crossed and "Case #1" in crossed


async def test_a_note_on_a_confidential_case_stays_and_one_on_an_open_case_crosses(
        bridged: FakeBot, net: Network):
    await bridged.send("/flag Egypt | Journalist summoned --confidential")  # #1
    await bridged.send("/flag Egypt | Lawyer arrested")  # #2
    room = Room(bridged)
    await room.say(f"/case note 1 {SECRET}")
    assert room.crossed() == ""
    await room.say("/case note 2 Released on bail")
    assert "Released on bail" in room.crossed()


async def test_an_unlisted_signature_is_not_named_in_the_room(bridged: FakeBot):
    room = Room(bridged)
    answer = await room.say(f"/signon S1 {ORG} | Egypt unlisted")
    assert answer.startswith("Signed S1 unlisted: it counts, the name is never printed.")
    assert ORG not in answer and ORG not in room.crossed()
    assert ORG not in await room.say(f"/signon S1 {ORG} | Egypt unlisted")  # again
    withdrawn = await room.say(f'/withdraw S1 "{ORG}"')
    assert withdrawn.startswith("The signature is withdrawn from S1") and ORG not in withdrawn


async def test_the_bot_deletes_the_message_where_it_may_and_says_so(bridged: FakeBot):
    room = Room(bridged)
    bridged.dispatcher.can_delete = lambda room_id: room_id == bridged.net.room
    answer = await room.say(f"/signon S1 {ORG} | Egypt unlisted")
    assert "I have deleted your message here" in answer
    rows = room.rows(bridged.net.room)
    # The answer first (it replies to the message), then the deletion of that message.
    assert [(r.kind, r.reply_to) for r in rows[-2:]] == [("reply", str(room.n)),
                                                        ("delete", str(room.n))]


async def test_where_the_bot_may_not_delete_it_asks(bridged: FakeBot):
    room = Room(bridged)
    answer = await room.say(f"/signon S1 {ORG} | Egypt unlisted")
    assert "Please delete your message here" in answer
    assert [r.kind for r in room.rows(bridged.net.room)] == ["reply"]


async def test_a_dm_gets_no_deletion_advice(bridged: FakeBot, net: Network):
    await bridged.send("/help")  # seen in a room: a member, also in a DM
    answer = await bridged.say(f"/signon S1 {ORG} | Egypt unlisted", dm=True)
    assert "delete" not in answer and ORG in answer


# -- oracles: no member may learn who signed unlisted ------------------------------------

async def test_signing_for_an_organisation_signed_by_someone_else_reads_the_same_either_way(
        bridged: FakeBot, net: Network):
    await bridged.send("/signon S1 Listed Org | Egypt", user=net.user(1))
    await bridged.send("/signon S1 Hidden Org | Egypt unlisted", user=net.user(1), dm=True)
    listed = await bridged.say("/signon S1 Listed Org", user=net.user(2))
    hidden = await bridged.say("/signon S1 Hidden Org", user=net.user(2))
    assert listed.replace("Listed", "X") == hidden.replace("Hidden", "X")
    assert "already recorded" in hidden


async def test_withdrawing_another_persons_signature_reads_like_no_signature(
        bridged: FakeBot, net: Network):
    await bridged.send("/signon S1 Hidden Org | Egypt unlisted", user=net.user(1), dm=True)
    unlisted = await bridged.say('/withdraw S1 "Hidden Org"', user=net.user(2))
    never = await bridged.say('/withdraw S1 "Never Signed Org"', user=net.user(2))
    assert unlisted == never
    assert "Hidden" not in unlisted


# -- /delete: Telegram tells bots nothing of deletions --------------------------------------

async def test_delete_removes_the_message_here_and_its_copy_there_and_itself(
        bridged: FakeBot, net: Network):
    from storage import links

    room = Room(bridged)
    bridged.dispatcher.can_delete = lambda room_id: True
    with bridged.database.session() as db:  # message 7 here was relayed as "copy-7" there
        links.record(db, net.room, "7", partner(net), "copy-7", bridged.now)
        db.commit()
    await room.inbound.receive(Event(
        platform=net.name, room_id=net.room, message_id="899", sender_id=net.admin,
        sender_name="Admin", text="/delete", timestamp=bridged.now))
    assert "Reply /delete to the message to delete" in room.answers()[-1]
    await room.inbound.receive(Event(
        platform=net.name, room_id=net.room, message_id="900", sender_id=net.user(1),
        sender_name="Member 1", text="/delete", reply_to="7", timestamp=bridged.now))
    assert "needs the admin role" in room.answers()[-1]
    await room.inbound.receive(Event(
        platform=net.name, room_id=net.room, message_id="901", sender_id=net.admin,
        sender_name="Admin", text="/delete", reply_to="7", timestamp=bridged.now))
    assert room.answers()[-1] == "Deleting that message here and its copy in the bridged room."
    here = [(r.kind, r.reply_to) for r in room.rows(net.room) if r.kind == "delete"]
    assert here == [("delete", "7"), ("delete", "901")]  # the message, then the command
    there = [(r.kind, r.reply_to) for r in room.rows(partner(net))]
    assert there == [("delete", "copy-7")]  # the /delete itself never crossed


async def test_delete_of_a_message_older_than_the_links_kept_says_so_and_deletes_it_here(
        bridged: FakeBot, net: Network):
    from datetime import timedelta

    from storage import links
    from storage.retention import apply_retention

    room = Room(bridged)
    days = bridged.config.privacy.link_retention_days
    with bridged.database.session() as db:  # message 7 was relayed long ago; its link is gone
        links.record(db, net.room, "7", partner(net), "copy-7",
                     bridged.now - timedelta(days=days + 1))
        assert apply_retention(db, now=bridged.now, relay_days=7, closed_case_days=None,
                               link_days=days).links == 1
        db.commit()
    await room.inbound.receive(Event(
        platform=net.name, room_id=net.room, message_id="903", sender_id=net.admin,
        sender_name="Admin", text="/delete", reply_to="7", timestamp=bridged.now))
    assert room.answers()[-1] == (
        "Deleting that message here; the bot knows no copy of it in the bridged room (it "
        f"never crossed, or is older than the {days} days the bot keeps track of copies): "
        "delete that one by hand if there is one.")
    assert [r.reply_to for r in room.rows(net.room) if r.kind == "delete"] == ["7"]
    assert room.rows(partner(net)) == []


async def test_delete_of_a_copy_removes_the_original_on_the_other_side(bridged: FakeBot,
                                                                       net: Network):
    from storage import links

    room = Room(bridged)
    with bridged.database.session() as db:  # "orig-3" there was relayed here as message 12
        links.record(db, partner(net), "orig-3", net.room, "12", bridged.now)
        db.commit()
    await room.inbound.receive(Event(
        platform=net.name, room_id=net.room, message_id="902", sender_id=net.admin,
        sender_name="Admin", text="/delete", reply_to="12", timestamp=bridged.now))
    assert [(r.kind, r.reply_to) for r in room.rows(partner(net))] == [("delete", "orig-3")]
    # Without the right to delete here, the command's own message stays: no row for it.
    assert [r.reply_to for r in room.rows(net.room) if r.kind == "delete"] == ["12"]
