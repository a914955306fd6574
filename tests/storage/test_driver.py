"""The hot statements on the driver's cursor (SQLite and PostgreSQL) store and read what
SQLAlchemy would, and fail as SQLAlchemy would, without the values in the error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from storage import inbound, links, outbox
from storage.crypto import clear_data_keys, new_key, set_data_keys
from storage.driver import DriverStatement
from storage.inbound import SEEN
from storage.links import MessageLink
from storage.outbox import OutboxMessage

NOW = datetime(2026, 11, 25, 12, 0, 0, 123456, tzinfo=UTC)
ROOM = "matrix:!r:example.org"


@pytest.fixture
def sealed() -> Iterator[None]:
    set_data_keys(new_key())
    yield
    clear_data_keys()


def test_a_row_added_reads_back_whole_sealed_at_rest_dates_aware(db: Session, sealed: None):
    words = '{"plain": "Ana: the lawyer Omar Ry was arrested"}'
    row_id = outbox.add(db, ROOM, kind="relay", payload=words, now=NOW,
                        source_room="telegram:-1", source_message="7")
    row = outbox.next_for_room(db, ROOM)
    assert (row.id, row.payload, row.created_at, row.source_message) == (row_id, words, NOW, "7")
    assert row.created_at.tzinfo is UTC
    at_rest = db.connection().execute(text("SELECT payload FROM outboxmessage")).scalar_one()
    assert "Omar" not in at_rest
    # What the ORM reads of it is the same row.
    orm = db.get(OutboxMessage, row_id)
    assert orm is not None and (orm.payload, orm.created_at) == (words, NOW)


def test_dates_are_stored_as_sqlalchemy_stores_them_so_they_compare_and_order(db: Session):
    earlier = outbox.add(db, ROOM, kind="relay", payload="{}", now=NOW)
    db.connection().execute(insert(OutboxMessage.__table__).values(  # type: ignore[attr-defined]
        room_id=ROOM, kind="relay", payload="{}", created_at=NOW + timedelta(microseconds=1),
        next_attempt_at=NOW, status="pending", attempts=0))
    ordered = db.connection().execute(select(OutboxMessage.id).order_by(  # type: ignore[arg-type]
        OutboxMessage.created_at)).scalars().all()
    assert ordered[0] == earlier
    assert outbox.rooms_due(db, NOW) == [ROOM]  # next_attempt_at <= now: equal dates match
    links.record(db, "telegram:-1", "7", ROOM, "$e", NOW)
    assert db.connection().execute(select(MessageLink.at)).scalar_one() == NOW  # type: ignore[call-overload]


def test_a_sent_row_is_marked_once_and_the_next_one_comes(db: Session):
    first = outbox.add(db, ROOM, kind="relay", payload="{}", now=NOW)
    second = outbox.add(db, ROOM, kind="relay", payload="{}", now=NOW)
    outbox.mark_sent(db, first, "$sent", NOW)
    assert outbox.next_for_room(db, ROOM).id == second
    stored = db.get(OutboxMessage, first)
    assert stored is not None and (stored.status, stored.attempts, stored.sent_message_id,
                                   stored.sent_at) == ("sent", 1, "$sent", NOW)
    assert outbox.next_for_room(db, "matrix:!none:example.org") is None


def test_first_sighting_and_the_resume_point(db: Session):
    assert inbound.first_sighting(db, ROOM, "$a", "", NOW)
    assert not inbound.first_sighting(db, ROOM, "$a", "", NOW)
    assert inbound.first_sighting(db, ROOM, "$a", "1700000000", NOW)  # an edit of it
    inbound.set_resume(db, "telegram.offset", "5")
    inbound.set_resume(db, "telegram.offset", "6")
    assert inbound.get_resume(db, "telegram.offset") == "6"


def test_a_driver_error_is_sqlalchemys_own_and_does_not_list_the_values(db: Session):
    plain_insert = DriverStatement(insert(SEEN), values=True)
    values = {"room_id": ROOM, "message_id": "Omar Ry, lawyer", "version": "", "seen_at": NOW}
    plain_insert.execute(db, values)
    with pytest.raises(IntegrityError) as caught:
        plain_insert.execute(db, values)
    assert isinstance(caught.value, SQLAlchemyError)
    # Not the parameters SQLAlchemy would list (PostgreSQL's own detail names the key).
    assert "[parameters:" not in str(caught.value)
    assert "hide_parameters=True" in str(caught.value)
