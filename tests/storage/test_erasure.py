"""Erasing a case (SQLite and PostgreSQL): codes, and what goes with the case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot import deliveries
from bot.replies import Reply
from storage import audit, outbox
from storage.cases import Case, CaseEvent, CaseTag, add_case, log_event
from storage.erasure import ErasureCode, erase_case, issue_code, spend_code
from storage.models import AuditEntry
from storage.outbox import OutboxMessage

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)



def new_case(db: Session, summary: str) -> int:
    case = add_case(db, Case(country="BH", summary=summary, reporter_id="telegram:7",
                             room_id="telegram:7", details="Omar Ry", created_at=NOW,
                             updated_at=NOW), ["reprisal-un"])
    log_event(db, case, at=NOW, actor_id="telegram:7", kind="note", text="Hassan Vy called")
    assert case.id is not None
    return case.id


def test_a_code_works_once_for_its_case_and_person_within_ten_minutes(db: Session):
    code = issue_code(db, 4, "telegram:2", now=NOW)
    assert len(code) == 8
    stored = db.exec(select(ErasureCode)).one()
    assert code not in stored.code_hash  # only its hash is kept
    assert not spend_code(db, 4, "telegram:2", "WRONG123", now=NOW)
    assert not spend_code(db, 5, "telegram:2", code, now=NOW)  # another case
    assert not spend_code(db, 4, "telegram:3", code, now=NOW)  # another person
    assert spend_code(db, 4, "telegram:2", code.lower(), now=NOW + timedelta(minutes=9))
    assert not spend_code(db, 4, "telegram:2", code, now=NOW + timedelta(minutes=9))  # used


def test_an_expired_or_replaced_code_is_refused(db: Session):
    first = issue_code(db, 4, "telegram:2", now=NOW)
    assert not spend_code(db, 4, "telegram:2", first, now=NOW + timedelta(minutes=10))
    second = issue_code(db, 4, "telegram:2", now=NOW + timedelta(minutes=11))
    third = issue_code(db, 4, "telegram:2", now=NOW + timedelta(minutes=12))
    assert not spend_code(db, 4, "telegram:2", second, now=NOW + timedelta(minutes=12))
    assert spend_code(db, 4, "telegram:2", third, now=NOW + timedelta(minutes=12))
    assert db.exec(select(ErasureCode)).all() == []


def test_erasing_a_case_removes_it_and_what_carried_it_and_nothing_else(db: Session):
    gone = new_case(db, "Zainab Qx summoned")
    kept = new_case(db, "An open case")
    for subject in (f"case:{gone}", f"case:{gone}", f"case:{kept}", None):
        deliveries.enqueue(db, "telegram:-9", Reply.text(f"about {subject}"), now=NOW,
                       subject=subject)
    sent = deliveries.enqueue(db, "telegram:-5", Reply.text("Zainab Qx"), now=NOW,
                          subject=f"case:{gone}")
    assert sent is not None
    outbox.mark_sent(db, sent, "77", NOW)
    audit.record(db, at=NOW, actor_id="telegram:7", room_id="telegram:7", action="case.assign",
                 target=f"#{gone}", detail="telegram:9")
    audit.record(db, at=NOW, actor_id="telegram:7", room_id="telegram:7", action="case.status",
                 target=f"#{kept}", detail="new → verifying")
    audit.record(db, at=NOW, actor_id="telegram:7", room_id="x", action="deadline.add",
                 target=f"#{gone}", detail="HRC61 oral statements")
    issue_code(db, gone, "telegram:2", now=NOW)
    loaded = db.get(Case, gone)  # a session that read the case before erasing it
    assert loaded is not None

    result = erase_case(db, gone)
    db.commit()

    assert (result.events, result.tags, result.messages, result.audit_rows_cleared) == (1, 1, 3,
                                                                                         1)
    assert db.get(Case, gone) is None
    assert db.exec(select(CaseEvent).where(CaseEvent.case_id == gone)).all() == []
    assert db.exec(select(CaseTag).where(CaseTag.case_id == gone)).all() == []
    subjects = sorted(str(r.subject) for r in db.exec(select(OutboxMessage)))
    assert subjects == ["None", f"case:{kept}"]
    assert db.exec(select(ErasureCode)).all() == []
    trail = {(e.action, e.target): e.detail for e in db.exec(select(AuditEntry))}
    assert trail == {("case.assign", f"#{gone}"): "",  # the action stays, its detail goes
                     ("case.status", f"#{kept}"): "new → verifying",
                     ("deadline.add", f"#{gone}"): "HRC61 oral statements"}  # not a case
    other = db.get(Case, kept)
    assert other is not None and other.details == "Omar Ry"
    assert len(db.exec(select(CaseEvent).where(CaseEvent.case_id == kept)).all()) == 1
