"""``caucus-bot recs import``: through ``bot.cli.main``, on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.cli import main
from storage.database import Database
from storage.models import AuditEntry
from storage.recommendations import Recommendation

DATA = Path(__file__).resolve().parent / "data"


def recs_in(url: str) -> list[Recommendation]:
    database = Database(url)
    with database.session() as db:
        rows = list(db.exec(select(Recommendation).order_by(col(Recommendation.id))))
    database.dispose()
    return rows


def test_import_prints_a_summary_and_a_second_run_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert main(["recs", "import", str(DATA / "uhri_sample.json"), "--database", url]) == 0
    out, err = capsys.readouterr()
    assert out == (f"imported {DATA / 'uhri_sample.json'}: 6 records read: 4 new, 0 updated, "
                   "0 unchanged; 2 skipped (1 not recommendations, 1 no known State)\n")
    assert err == ""  # no progress bar when standard error is not a terminal
    assert main(["recs", "import", str(DATA / "uhri_sample.json"), "--database", url]) == 0
    assert "0 new, 0 updated, 4 unchanged" in capsys.readouterr().out
    assert len(recs_in(url)) == 4
    database = Database(url)
    with database.session() as db:
        audit = db.exec(select(AuditEntry).where(AuditEntry.action == "rec.import")).all()
    database.dispose()
    assert [a.actor_id for a in audit] == ["caucus-bot:command-line"] * 2
    assert audit[0].target == "uhri_sample.json" and "4 new" in audit[0].detail


def test_filters_from_the_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert main(["recs", "import", str(DATA / "uhri_sample.json"), "--database", url,
                 "--country", "EG", "--affected", "Human rights defenders",
                 "--affected", "journalists", "--since", "2020"]) == 0
    assert "1 new" in capsys.readouterr().out
    assert [r.uhri_id for r in recs_in(url)] == ["a1-egypt-upr-hrd"]
    assert main(["recs", "import", str(DATA / "uprinfo_sample.csv"), "--database", url,
                 "--country", "Bahrain"]) == 0
    assert "1 new" in capsys.readouterr().out
    assert [r.uprinfo_id for r in recs_in(url)] == [None, "u-102"]


def test_bad_options_and_files_answer_with_what_is_wrong(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    sample = str(DATA / "uhri_sample.json")
    assert main(["recs", "import", sample, "--database", url, "--country", "Narnia"]) == 2
    assert "--country: unknown country 'Narnia'" in capsys.readouterr().err
    assert main(["recs", "import", sample, "--database", url, "--since", "20"]) == 2
    assert "--since: 20 is not a year" in capsys.readouterr().err
    assert main(["recs", "import", str(tmp_path / "none.json"), "--database", url]) == 2
    assert "cannot open" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text((DATA / "uhri_sample.json").read_text()[:-40])
    assert main(["recs", "import", str(broken), "--database", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"caucus-bot recs import: {broken}: not valid JSON after record 5")
    assert "the records before it were imported" in err
