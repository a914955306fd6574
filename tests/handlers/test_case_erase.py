"""``/case erase N`` then ``/case erase N <code>``: only the secretariat, only in private,
only with the live code of the person who asked; then nothing of the case is left."""

from __future__ import annotations

from sqlmodel import select

from bot import deliveries
from bot.replies import Reply
from storage import outbox
from storage.cases import CaseEvent
from storage.models import AuditEntry
from storage.outbox import OutboxMessage
from tests.harness import FakeBot, Network

SECRET = "Zainab Qx summoned after a side event"


async def confidential_case(bot: FakeBot, net: Network) -> tuple[int, str]:
    """A case with notes and details, and the secretariat member who will erase it."""
    secretariat = net.user(2)
    await bot.send(f"/role grant {secretariat} secretariat", user=bot.admin)
    await bot.send("hello", user=net.user(3))  # a member, seen in an allowed room
    answer = await bot.say(f"/flag Bahrain | {SECRET} #reprisal-un", user=net.user(3), dm=True)
    n = int(answer.split("#")[1].split()[0])
    for command in (f"/case note {n} Lawyer Hassan Vy called", f"/case details {n} Omar Ry",
                    f"/case assign {n} {secretariat}"):
        assert f"#{n}" in await bot.say(command, user=net.user(3), dm=True)
    return n, secretariat


def code_in(answer: str) -> str:
    return answer.rstrip().split()[-1]


async def test_the_code_is_asked_for_and_given_only_in_private_to_the_secretariat(
        bot: FakeBot, net: Network):
    n, secretariat = await confidential_case(bot, net)
    member = await bot.say(f"/case erase {n}", user=net.user(3), dm=True)
    assert "needs the secretariat role" in member
    room = await bot.say(f"/case erase {n}", user=secretariat)
    assert "only in a direct message" in room and "Nothing was erased" in room
    answer = await bot.say(f"/case erase {n}", user=secretariat, dm=True)
    assert f"Erase case #{n} for good?" in answer
    assert f"/case erase {n} " in answer and len(code_in(answer)) == 8
    secure = await bot.say(f"/case erase {n}", user=secretariat, room=net.secure_room)
    assert code_in(secure) != code_in(answer)
    assert "There is no case #99." in await bot.say("/case erase 99", user=secretariat, dm=True)


async def test_a_wrong_code_or_someone_elses_code_erases_nothing(bot: FakeBot, net: Network):
    n, secretariat = await confidential_case(bot, net)
    code = code_in(await bot.say(f"/case erase {n}", user=secretariat, dm=True))
    wrong = await bot.say(f"/case erase {n} ABCDEFGH", user=secretariat, dm=True)
    assert "does not confirm" in wrong and "Nothing was erased" in wrong
    taken = await bot.say(f"/case erase {n} {code}", user=bot.admin, dm=True)
    assert "does not confirm" in taken
    room = await bot.say(f"/case erase {n} {code}", user=secretariat)
    assert "Nothing was erased" in room
    assert SECRET in await bot.say(f"/case {n}", user=secretariat, dm=True)


async def test_an_expired_code_is_refused(bot: FakeBot, net: Network):
    n, secretariat = await confidential_case(bot, net)
    code = code_in(await bot.say(f"/case erase {n}", user=secretariat, dm=True))
    bot.advance(minutes=10, seconds=1)
    late = await bot.say(f"/case erase {n} {code}", user=secretariat, dm=True)
    assert "older than 10 minutes" in late and "Nothing was erased" in late
    assert SECRET in await bot.say(f"/case {n}", user=secretariat, dm=True)


async def test_erasing_removes_the_case_its_timeline_and_its_messages(bot: FakeBot,
                                                                    net: Network):
    n, secretariat = await confidential_case(bot, net)
    other = int((await bot.say("/flag Egypt | An open case")).split("#")[1].split()[0])
    with bot.database.session() as db:
        for subject in (f"case:{n}", f"case:{n}", f"case:{other}"):
            deliveries.enqueue(db, net.secure_room, Reply.text(f"{SECRET} ({subject})"),
                           now=bot.now, subject=subject)
        delivered = deliveries.enqueue(db, net.room, Reply.text(SECRET), now=bot.now,
                                   subject=f"case:{n}")
        assert delivered is not None
        outbox.mark_sent(db, delivered, "5", bot.now)
        db.commit()
    code = code_in(await bot.say(f"/case erase {n}", user=secretariat, dm=True))
    bot.advance(minutes=9)
    done = await bot.say(f"/case erase {n} {code}", user=secretariat, dm=True)
    assert f"Case #{n} erased." in done

    assert await bot.say(f"/case {n}", user=secretariat, dm=True) == f"There is no case #{n}."
    again = await bot.say(f"/case erase {n} {code}", user=secretariat, dm=True)
    assert again == f"There is no case #{n}."
    with bot.database.session() as db:
        assert db.exec(select(CaseEvent).where(CaseEvent.case_id == n)).all() == []
        kept = [r.subject for r in db.exec(select(OutboxMessage))]
        trail = db.exec(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert kept == [f"case:{other}"]
    about = [e for e in trail if e.target == f"#{n}"]
    assert [e.action for e in about] == ["case.flag", "case.note", "case.details",
                                         "case.assign", "case.erase"]
    assert all(e.detail == "" for e in about)  # the assignee, "confidential": gone
    assert (about[-1].actor_id, about[-1].room_id) == (secretariat, net.dm(secretariat))
    everything = " ".join(f"{e.action} {e.target} {e.detail}" for e in trail)
    for word in ("Zainab", "Hassan", "Omar", "Bahrain", "BH"):
        assert word not in everything
    assert "An open case" in await bot.say(f"/case {other}")
