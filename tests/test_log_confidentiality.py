"""No message text, name or SQL parameter reaches a log line, at any level.

A full flow, as an adapter drives it (Inbound, Dispatcher, outbox worker): a case
flagged with a summary naming a defender and a phone number, its confidential
details, a sign-on, a note whose command fails in the database, a relayed
message, and deliveries that fail once with the text in the exception's message.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlmodel import Session

import handlers.case_followup
from bot.deliveries import BotReply, Edit, Media, Relay
from bot.logs import JsonFormatter
from bot.outbox import Delivery, OutboxWorker
from storage import outbox
from storage.cases import Case, CaseEvent
from tests.flows import Flow
from tests.harness import FakeBot, Network

NAME = "Quenbrook Zarifa"
SUMMARY = "Defender Yusra Malvecchi detained at the airport, her lawyer is on +41 79 555 12 34"
DETAILS = "Real name Yusra Malvecchi-Odhiambo, sister on +20 100 777 8899"
NOTE = "Seen at Tora prison by Ilhem Dravonskaya on 12 Nov"
ORG = "Vexmoor Collective for Detainees"
RELAYED = "Ilhem says the hearing moved to Thursday, call 0049 30 9876 5432"
TYPED = (NAME, SUMMARY, DETAILS, NOTE, ORG, RELAYED, "Malvecchi", "555 12 34", "Dravonskaya",
         "Vexmoor", "9876 5432")


def fails_in_the_database(db: Session, case: Case, **event: Any) -> None:
    """A timeline row that breaks a constraint (no such case): the insert's parameters
    hold the note's text."""
    assert case.id is not None
    db.add(CaseEvent(case_id=case.id + 1000, **event))
    db.flush()


def shown(record: logging.LogRecord) -> str:
    """What a log line shows: its message, and the exception it carries."""
    text = record.getMessage() + "\n" + (record.exc_text or "")
    if record.exc_info:
        text += logging.Formatter().formatException(record.exc_info)
    return text


def leaks(record: logging.LogRecord) -> list[str]:
    return [text for text in TYPED if text in shown(record)]


async def test_a_full_flow_logs_no_typed_text(bot: FakeBot, net: Network,
                                              caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # SQL, parameters and rows too
    flow, member, secretariat = Flow(bot), net.user(1), net.user(9)
    await flow.say(f"/role grant {secretariat} secretariat", user=bot.admin, name="Admin")
    await flow.say(f"/flag Egypt | {SUMMARY}", user=member, name=NAME)
    await flow.say(f"/case details 1 {DETAILS}", user=member, name=NAME, dm=True)
    await flow.say("/statement new Letter deadline=2026-12-01", user=secretariat, name="Sec")
    await flow.say(f'/signon S1 "{ORG}"', user=member, name=NAME)
    monkeypatch.setattr(handlers.case_followup, "log_event", fails_in_the_database)
    await flow.say(f"/case note 1 {NOTE}", user=member, name=NAME)
    await flow.say(RELAYED, user=member, name=NAME)

    tried: set[int] = set()

    async def refuse_once(delivery: Delivery) -> str:
        if delivery.row_id not in tried:
            tried.add(delivery.row_id)
            match delivery.content:
                case BotReply(reply=reply):
                    words = reply.plain()
                case Relay(text=text) | Media(caption=text) | Edit(text=text):
                    words = text.plain
                case _:
                    words = ""
            raise ValueError(f"could not render {words!r}")
        return f"sent-{delivery.row_id}"

    worker = OutboxWorker(bot.database, {"telegram": refuse_once, "matrix": refuse_once},
                          lambda: bot.now)
    for _ in range(12):  # a row that fails holds back its room's later rows: one a round
        await worker.drain(seconds=0.2)
        bot.advance(minutes=5)
    with bot.database.session() as db:
        assert outbox.pending(db) == []  # every answer, relay and mirror went, after a failure

    # The operator still learns what failed, and where.
    assert any("IntegrityError" in shown(r) and "fails_in_the_database" in shown(r)
               for r in caplog.records if r.name == "bot.dispatcher")
    assert any("ValueError" in shown(r) and "refuse_once" in shown(r)
               for r in caplog.records if r.name == "bot.outbox")
    assert len(tried) > 10
    assert {r.name: leaks(r) for r in caplog.records if leaks(r)} == {}
    # As a log collector gets it ([bot].log_format = "json"): the same, one object a line.
    lines = [JsonFormatter(bot.config).format(r) for r in caplog.records]
    assert [t for t in TYPED for line in lines if t in line] == []
    objects = [json.loads(line) for line in lines]
    assert any(o.get("room") == "Caucus" and o.get("command") == "flag" for o in objects)
    assert any(o["logger"] == "bot.outbox" and "ValueError" in o["event"] and "row_id" in o
               for o in objects)

