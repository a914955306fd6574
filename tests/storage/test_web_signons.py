"""Web sign-ons in storage: one list with /signon, the review's states, and the signer's
personal data (sealed, dropped when no longer needed, erased and exported on request)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import Session, select

from storage.crypto import new_key, set_data_keys
from storage.database import HEAD, Database, alembic_config
from storage.personal_data import erase_person, export_person
from storage.retention import apply_retention
from storage.statements import Signature, Statement, normalise_org_name, sign
from storage.web_signons import (
    AlreadyPending,
    AlreadySigned,
    Received,
    Submission,
    WebSignon,
    approve,
    reject,
    submit,
    withdraw,
)

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)


def form(name: str = "Cairo Institute", email: str = "ana@example.org",
         **extra: object) -> Submission:
    values: dict[str, object] = {"org_name": name, "country": "EG", "level": None,
                                 "ecosoc": "special", "unlisted": False,
                                 "signer_name": "Ana Signer", "signer_email": email}
    values.update(extra)
    return Submission(**values)  # type: ignore[arg-type]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    database.upgrade()
    with database.session() as db:
        db.add(Statement(id=1, title="Letter", created_by="a", created_at=NOW,
                         deadline=NOW + timedelta(days=7)))
        db.commit()
    yield database
    database.dispose()



def send(db: Session, submission: Submission, *, review: bool = True):  # type: ignore[no-untyped-def]
    statement = db.get(Statement, 1)
    assert statement is not None
    outcome = submit(db, statement, submission, now=NOW, review=review,
                     org_key=normalise_org_name(submission.org_name))
    db.commit()
    return outcome


def test_the_migration_keeps_every_signature_and_marks_it_from_chat(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    database = Database(url)

    def to(revision: str, how: str = "upgrade") -> None:
        with database.engine.begin() as connection:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = connection
            getattr(command, how)(cfg, revision)

    to("0010")
    with database.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO statement (id, title, status, text_version, created_by, created_at) "
            "VALUES (1, 'Letter', 'open', 1, 'x', '2026-11-01 09:00:00')"))
        for n in (1, 2):
            connection.execute(text(
                "INSERT INTO signature (id, statement_id, org_name, org_key, unlisted, "
                "signed_by, signed_in, text_version, signed_at) VALUES "
                f"({n}, 1, 'Org {n}', 'org {n}', false, 'u', 'r', 1, '2026-11-01 09:00:00')"))
    database.upgrade()
    assert database.revision() == HEAD
    with database.session() as db:
        assert [(s.id, s.source) for s in db.exec(select(Signature))] == [(1, "chat"),
                                                                          (2, "chat")]
        statement = db.get(Statement, 1)
        assert statement is not None and (statement.web_open, statement.web_token) == (False,
                                                                                      None)
    to("0010", "downgrade")  # and back: nothing is lost on the way down either
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM signature")).scalar() == 2
    database.dispose()


def test_one_list_with_chat_signatures(db: Session):
    db.add(Signature(statement_id=1, org_name="Cairo Institute", org_key="cairo institute",
                     signed_by="telegram:5", signed_in="telegram:-5", signed_at=NOW))
    db.commit()
    assert isinstance(send(db, form("CAIRO  institute.")), AlreadySigned)
    first = send(db, form("Gulf Centre"))
    assert isinstance(first, Received) and first.row.status == "pending"
    assert isinstance(send(db, form("gulf centre")), AlreadyPending)
    assert len(db.exec(select(WebSignon)).all()) == 1


def test_approval_signs_through_the_same_index(db: Session):
    outcome = send(db, form())
    assert isinstance(outcome, Received)
    signature = approve(db, outcome.row, by="telegram:9", now=NOW + timedelta(hours=1))
    db.commit()
    assert signature is not None
    assert (signature.source, signature.signed_by, signature.signed_at) == ("web",
                                                                            outcome.row.signer,
                                                                            NOW)
    assert (outcome.row.status, outcome.row.signature_id) == ("approved", signature.id)
    # Now signed: the same organisation again is reported, not doubled.
    assert isinstance(send(db, form("Cairo institute")), AlreadySigned)


def test_rejection_and_withdrawal_drop_the_signer(db: Session):
    rejected = send(db, form("Spam Org"))
    kept = send(db, form("Real Org", email="b@example.org"))
    assert isinstance(rejected, Received) and isinstance(kept, Received)
    reject(db, rejected.row, by="telegram:9", now=NOW)
    assert withdraw(db, kept.row, now=NOW)
    db.commit()
    for row in (rejected.row, kept.row):
        assert (row.signer_name, row.signer_email) == (None, None)
    assert [r.status for r in db.exec(select(WebSignon).order_by(WebSignon.id))] == [
        "rejected", "withdrawn"]
    assert not withdraw(db, kept.row, now=NOW)  # nothing left to withdraw


def _race(database: Database, *, review: bool, people: int = 6) -> list[object]:
    """``people`` submissions of one organisation, spelled each their way, at one moment."""
    barrier = threading.Barrier(people)
    outcomes: list[object] = []

    def worker(n: int) -> None:
        with database.session() as session:
            statement = session.get(Statement, 1)
            assert statement is not None
            barrier.wait()
            name = f"Same Org{'.' * n} {'A' if review else 'B'}"
            outcomes.append(submit(session, statement, form(name), now=NOW, review=review,
                                   org_key=normalise_org_name(name)))
            session.commit()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(people)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_submissions_at_the_same_moment_yield_one(database: Database):
    """People of one organisation pressing the button at once: one pending sign-on, and
    with review off, one signature."""
    for review in (True, False):
        outcomes = _race(database, review=review)
        assert len(outcomes) == 6
        assert sum(isinstance(o, Received) for o in outcomes) == 1, review
    with database.session() as session:
        assert len(session.exec(select(WebSignon).where(WebSignon.status == "pending")).all()) == 1
        assert len(session.exec(select(Signature)).all()) == 1


def test_the_signer_is_sealed_at_rest(database: Database, tmp_path: Path):
    set_data_keys(new_key())
    with database.session() as session:
        send(session, form(email="secret.person@example.org"))
    raw = sqlite3.connect(tmp_path / "w.db").execute(
        "SELECT signer_name, signer_email, org_name FROM websignon").fetchone()
    assert raw[0].startswith("enc:1:") and raw[1].startswith("enc:1:")
    assert "secret.person" not in raw[1] and raw[2] == "Cairo Institute"


def test_retention_drops_signers_some_days_after_the_deadline(db: Session):
    db.add(Statement(id=2, title="No deadline", created_by="a", created_at=NOW))
    db.commit()
    send(db, form())
    statement = db.get(Statement, 2)
    assert statement is not None
    submit(db, statement, form("Other"), now=NOW, review=True, org_key="other")
    db.commit()
    early = apply_retention(db, now=NOW + timedelta(days=96), relay_days=7,
                            closed_case_days=None, web_signer_days=90)
    assert early.web_signers == 1  # the one without a deadline: 96 days after signing
    late = apply_retention(db, now=NOW + timedelta(days=98), relay_days=7,
                           closed_case_days=None, web_signer_days=90)
    assert late.web_signers == 1  # the deadline (day 7) plus 90 days
    assert "dropped name and e-mail of 1 web signer" in late.summary()
    assert all(r.signer_email is None for r in db.exec(select(WebSignon)))


def test_a_web_signer_is_erased_and_exported_by_e_mail(db: Session):
    send(db, form("Org A", email="Ana@Example.org"))
    send(db, form("Org B", email="other@example.org"))
    data = export_person(db, "web:ana@example.org", admins=(), now=NOW)
    assert [(s["organisation"], s["your_email"], s["status"]) for s in data["web_signons"]] == [
        ("Org A", "Ana@Example.org", "pending")]
    assert erase_person(db, "web:ana@example.org", replacement="erased:x") == {"websignon": 1}
    db.commit()
    emails = [r.signer_email for r in db.exec(select(WebSignon).order_by(WebSignon.id))]
    assert emails == [None, "other@example.org"]
    assert export_person(db, "web:ana@example.org", admins=(), now=NOW)["web_signons"] == []
    # The organisation's sign-on itself stays.
    assert [r.org_name for r in db.exec(select(WebSignon))] == ["Org A", "Org B"]


def test_sign_is_the_one_insert_path(db: Session):
    """A web signature and a chat one are rows of one table under one index."""
    outcome = send(db, form(), review=False)
    assert isinstance(outcome, Received) and outcome.row.status == "approved"
    _, created = sign(db, Signature(statement_id=1, org_name="cairo-institute",
                                    org_key="cairo institute", signed_by="telegram:1",
                                    signed_in="telegram:-5", signed_at=NOW))
    assert not created
