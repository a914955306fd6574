"""Migration 0010: organisation keys recomputed, collisions settled without losing a row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text
from sqlmodel import select

from storage.database import HEAD, Database, alembic_config
from storage.statements import Signature, normalise_org_name

T0 = datetime(2026, 11, 1, 9)  # naive UTC, as stored


def test_migration_recomputes_keys_and_withdraws_the_newer_duplicate(empty_database_url: str):
    url = empty_database_url
    database = Database(url)
    with database.engine.begin() as connection:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0009")
        connection.execute(text(
            "INSERT INTO statement (id, title, status, text_version, created_by, created_at) "
            "VALUES (1, 'Letter', 'open', 1, 'x', :at)"), {"at": T0})
        rows = [  # id, name, old key, signed, withdrawn
            (1, "Asociacion Pro Derechos Humanos", "asociacion pro derechos humanos", 1, None),
            (2, "Asociación Pro Derechos Humanos", "asociación pro derechos humanos", 0, None),
            (3, "\u0410mnesty", "\u0430mnesty", 2, None),
            (4, "Amnesty", "amnesty", 3, T0),  # withdrawn: stays as it is, key recomputed
            (5, "Front Line Defenders", "front line defenders", 4, None),
        ]
        for id_, name, key, days, withdrawn in rows:
            connection.execute(text(
                "INSERT INTO signature (id, statement_id, org_name, org_key, unlisted, "
                "signed_by, signed_in, text_version, signed_at, withdrawn_at) VALUES "
                "(:id, 1, :name, :key, false, 'u', 'r', 1, :at, :withdrawn)"),
                {"id": id_, "name": name, "key": key, "at": T0 + timedelta(days=days),
                 "withdrawn": withdrawn})
    database.upgrade()
    assert database.revision() == HEAD  # 0010 ran, and whatever came after it
    with database.session() as db:
        got = {s.id: s for s in db.exec(select(Signature))}
    database.dispose()
    assert {i: s.org_key for i, s in got.items()} == {
        i: normalise_org_name(s.org_name) for i, s in got.items()}
    # 2 signed first (day 0): it stays; 1 (day 1) collides with it and is withdrawn.
    assert got[2].withdrawn_at is None
    assert got[1].withdrawn_at is not None and got[1].withdrawn_by == "migration 0010"
    assert got[3].withdrawn_at is None and got[5].withdrawn_at is None
    assert got[4].withdrawn_at == T0.replace(tzinfo=UTC) and got[4].withdrawn_by is None
    assert got[3].org_key == got[4].org_key == "amnesty"
