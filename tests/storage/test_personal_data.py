"""Erasing and exporting one person's data, on a fresh database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot import deliveries
from bot.commands import Role
from bot.replies import Reply
from storage import audit, roles, rooms
from storage.cases import Case, CaseEvent, add_case, log_event
from storage.models import AuditEntry, Identity, RoleGrant
from storage.outbox import OutboxMessage
from storage.personal_data import erase_person, export_person, placeholder
from storage.reminders import Reminder
from storage.statements import OrgProfile, Signature, Statement, normalise_org_name
from tests.harness import every_row

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
ANA, BEN = "telegram:7", "telegram:8"



def world(db: Session) -> tuple[int, int]:
    """Ana reported case A (in her DM) and is assigned Ben's case B; she signed, granted..."""
    for who, name in ((ANA, "Ana Reporter"), (BEN, "Ben Other")):
        db.add(Identity(id=who, display_name=name, is_member=True, first_seen=NOW,
                        last_seen=NOW))
    db.add(OrgProfile(user_id=ANA, org_name="Gulf Centre", country="LB"))
    roles.grant(db, ANA, Role.SECRETARIAT, by=BEN, now=NOW)
    mine = add_case(db, Case(country="BH", summary="Zainab summoned", reporter_id=ANA,
                             room_id=ANA, details="Real name Omar Ry", pseudonym="Activist Kz",
                             created_at=NOW, updated_at=NOW), ["reprisal-un"])
    log_event(db, mine, at=NOW, actor_id=ANA, kind="note", text="I called her lawyer")
    log_event(db, mine, at=NOW, actor_id=BEN, kind="note", text="Ben's own note on it")
    theirs = add_case(db, Case(country="EG", summary="Ben's case about Hassan", reporter_id=BEN,
                               room_id="telegram:-5", created_at=NOW, updated_at=NOW), [])
    theirs.assignee_id = ANA
    log_event(db, theirs, at=NOW, actor_id=BEN, kind="assign", value=ANA)
    log_event(db, theirs, at=NOW, actor_id=ANA, kind="note", text="Visited Hassan in prison")
    statement = Statement(title="Letter on reprisals", created_by=BEN, created_at=NOW)
    db.add(statement)
    db.flush()
    db.add(Signature(statement_id=statement.id or 0, org_name="Gulf Centre",
                     org_key=normalise_org_name("Gulf Centre"), signed_by=ANA, signed_in=ANA,
                     signed_at=NOW))
    audit.record(db, at=NOW, actor_id=ANA, room_id=ANA, action="case.note",
                 target=f"#{mine.id}")
    audit.record(db, at=NOW, actor_id=BEN, room_id="telegram:-5", action="case.assign",
                 target=f"#{theirs.id}", detail=ANA)
    audit.record(db, at=NOW, actor_id=BEN, room_id="telegram:-5", action="role.grant",
                 target=ANA, detail="secretariat")
    db.add(Reminder(key="remind:a", kind="remind", due_at=NOW + timedelta(days=1),
                    targets=ANA, text="Call the lawyer", created_by="Ana Reporter"))
    db.add(Reminder(key="remind:b", kind="remind", due_at=NOW + timedelta(days=1),
                    targets=f"{ANA} telegram:-5", text="Team call", created_by=BEN))
    rooms.pair(db, ("telegram:-77", "Caucus"), ("matrix:!r:x", "Caucus"), by=ANA, now=NOW)
    rooms.issue_pairing_code(db, "telegram:-78", "Annex", by=ANA, now=NOW)
    deliveries.enqueue(db, ANA, Reply.text("Case #1 recorded as confidential"), now=NOW)
    deliveries.enqueue(db, BEN, Reply.text("for Ben"), now=NOW)
    db.commit()
    assert mine.id is not None and theirs.id is not None
    return mine.id, theirs.id


def test_erasing_a_person_leaves_no_trace_of_their_id_or_names(db: Session):
    mine, theirs = world(db)
    erased = placeholder()
    counts = erase_person(db, ANA, replacement=erased)
    db.commit()
    assert counts["identity"] == 1 and counts["orgprofile"] == 1 and counts["rolegrant"] == 1
    assert counts["case"] == 3 and counts["signature"] == 2 and counts["outboxmessage"] == 1
    assert counts["reminder"] == 2 and counts["auditentry"] == 4
    assert counts["chatroom"] == 4 and counts["pairingcode"] == 1  # added and paired by her
    everything = every_row(db.connection())
    assert ANA not in everything and "Ana Reporter" not in everything
    assert BEN in everything and "Ben Other" in everything  # nobody else is touched
    assert "Zainab summoned" in everything and "Gulf Centre" in everything
    case = db.get(Case, mine)
    assert case is not None and case.reporter_id == erased and case.summary == "Zainab summoned"
    other = db.get(Case, theirs)
    assert other is not None and other.assignee_id == erased
    assert db.exec(select(CaseEvent.value).where(CaseEvent.kind == "assign")).one() == erased
    signature = db.exec(select(Signature)).one()
    assert signature.org_name == "Gulf Centre" and signature.signed_by == erased  # the org's
    assert db.get(Reminder, "remind:a").status == "cancelled"  # type: ignore[union-attr]
    assert db.get(Reminder, "remind:b").targets == "telegram:-5"  # type: ignore[union-attr]
    assert [r.room_id for r in db.exec(select(OutboxMessage))] == [BEN]
    assert db.get(RoleGrant, ANA) is None and db.get(OrgProfile, ANA) is None
    assert roles.describe(db, erased) == "(erased user)"
    assert roles.name_of(db, erased) == "(erased user)"


def test_the_export_holds_their_data_and_not_other_peoples(db: Session):
    mine, theirs = world(db)
    data = export_person(db, ANA, admins=(), now=NOW)
    text = json.dumps(data)
    assert data["identity"]["display_name"] == "Ana Reporter"
    assert data["role"] == "secretariat" and data["role_granted"]["by"] == BEN
    assert data["organisation"]["name"] == "Gulf Centre"
    assert [s["statement"] for s in data["signatures"]] == ["S1"]
    [reported] = data["cases_reported"]
    assert reported["case"] == mine and reported["summary"] == "Zainab summoned"
    assert [e["text"] for e in reported["your_entries"]] == ["I called her lawyer"]
    assert [c["case"] for c in data["cases_assigned"]] == [theirs]
    assert data["actions_on_other_cases"] == [{"case": theirs, "at": NOW.isoformat(),
                                               "kind": "note"}]
    assert [r["text"] for r in data["reminders_set"]] == ["Call the lawyer"]
    assert [a["action"] for a in data["audit_entries"]] == ["case.note"]
    # Confidential details, pseudonyms, others' notes and others' cases stay out.
    for other in ("Omar Ry", "Activist Kz", "Ben's own note", "Hassan", "Team call"):
        assert other not in text
    assert export_person(db, BEN, admins=(BEN,), now=NOW)["role"] == "admin"


def test_an_unknown_person_exports_empty_and_erases_nothing(db: Session):
    world(db)
    data = export_person(db, "matrix:@nobody:example.org", admins=(), now=NOW)
    assert data["identity"] is None and data["cases_reported"] == [] and data["role"] == "member"
    assert erase_person(db, "matrix:@nobody:example.org", replacement=placeholder()) == {}
    assert len(db.exec(select(AuditEntry)).all()) == 3
