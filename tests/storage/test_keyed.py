"""A stored record's key exists; an unsaved record has none, and says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.cases import Case
from storage.database import Database


def test_a_saved_record_has_a_key_and_an_unsaved_one_refuses(tmp_path: Path):
    database = Database(f"sqlite:///{tmp_path / 'k.db'}")
    database.upgrade()
    now = datetime(2026, 11, 1, tzinfo=UTC)
    case = Case(country="EG", summary="Lawyer arrested", reporter_id="telegram:1",
                room_id="telegram:-5", created_at=now, updated_at=now)
    with pytest.raises(LookupError, match="Case has not been saved yet"):
        _ = case.key  # once ``case.id or 0``: row 0, silently
    with database.session() as db:
        db.add(case)
        db.flush()
        assert case.key == case.id and case.key >= 1
