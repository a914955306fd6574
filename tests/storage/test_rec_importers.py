"""Importing UN recommendations: the UHRI JSON export and the UPR Info CSV, from small files."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from storage.importers import Filters, ImportFileError, import_file
from storage.recommendations import Recommendation

DATA = Path(__file__).resolve().parent.parent / "data"
UHRI = DATA / "uhri_sample.json"
UPRINFO = DATA / "uprinfo_sample.csv"
NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)



def run(db: Session, path: Path, filters: Filters | None = None):
    return import_file(db, path, filters or Filters(), actor="cli", now=NOW)


def all_recs(db: Session) -> list[Recommendation]:
    db.expire_all()
    return list(db.exec(select(Recommendation).order_by(col(Recommendation.id))))


def test_uhri_import_reads_recommendations_and_skips_concerns(db: Session):
    counts = run(db, UHRI)
    assert counts.summary() == ("6 records read: 4 new, 0 updated, 0 unchanged; 2 skipped "
                                "(1 not recommendations, 1 no known State)")
    recs = {r.uhri_id: r for r in all_recs(db)}
    assert set(recs) == {"a1-egypt-upr-hrd", "a3-bahrain-crc", "a4-iran-sr", "a6-egypt-upr-noted"}
    egypt = recs["a1-egypt-upr-hrd"]
    # HTML read as words, the paragraph number taken out, "- " prefixes dropped.
    assert egypt.text == ("Ensure that human rights defenders & journalists can work without "
                          "fear of reprisals (Norway);")
    assert (egypt.paragraph, egypt.symbol, egypt.country) == ("6.1", "A/HRC/52/12", "EG")
    assert (egypt.source, egypt.body, egypt.position) == ("upr", "UPR", "supported")
    assert (egypt.cycle, egypt.session, egypt.published) == (4, 43, date(2023, 1, 27))
    assert egypt.recommending_states == ["Norway", "France"]
    assert egypt.affected_list == ["Human rights defenders", "Journalists"]
    assert egypt.on_defenders and egypt.current_statuses == ["not-assessed"]
    bahrain = recs["a3-bahrain-crc"]
    assert (bahrain.source, bahrain.body, bahrain.paragraph, bahrain.position) == (
        "treaty-body", "CRC", "23", "")
    iran = recs["a4-iran-sr"]
    assert (iran.source, iran.country, iran.paragraph) == ("special-procedure", "IR", "89")
    noted = recs["a6-egypt-upr-noted"]
    assert (noted.position, noted.session, noted.recommending_states) == ("noted", 34,
                                                                          ["Portugal"])


def test_reimport_updates_and_never_duplicates(db: Session, tmp_path: Path):
    run(db, UHRI)
    ids = {r.uhri_id: r.id for r in all_recs(db)}
    again = run(db, UHRI)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)
    changed = json.loads(UHRI.read_text())
    changed[0]["UprPositions"] = ["Supported/Noted"]
    changed.append({**changed[2], "AnnotationId": "a7-new", "Text": "24. Another one."})
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(changed))
    third = run(db, edited)
    assert (third.new, third.updated, third.unchanged) == (1, 1, 3)
    recs = {r.uhri_id: r for r in all_recs(db)}
    assert len(recs) == 5
    assert {k: recs[k].id for k in ids} == ids  # same rows, same R-ids
    assert recs["a1-egypt-upr-hrd"].position == "supported-noted"


def test_uhri_filters_country_affected_and_year(db: Session):
    only_egypt = run(db, UHRI, Filters(country="EG"))
    assert only_egypt.new == 2 and only_egypt.skipped["filtered out"] == 3
    assert {r.country for r in all_recs(db)} == {"EG"}
    defenders = run(db, UHRI, Filters(affected=("human rights defenders",), since=2020))
    assert defenders.new == 1  # Iran; Egypt's is there already, Bahrain's is from 2019
    assert defenders.unchanged == 1
    assert {r.uhri_id for r in all_recs(db)} == {"a1-egypt-upr-hrd", "a6-egypt-upr-noted",
                                                  "a4-iran-sr"}


def test_uhri_errors_say_where(db: Session, tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text(UHRI.read_text()[:-40])
    with pytest.raises(ImportFileError, match="not valid JSON after record 5"):
        run(db, broken)
    not_array = tmp_path / "object.json"
    not_array.write_text('{"AnnotationId": "x"}')
    with pytest.raises(ImportFileError, match="UPR Info CSV lacks required columns"):
        run(db, not_array)  # not a JSON array: read as CSV, which it is not either
    with pytest.raises(ImportFileError, match="cannot open"):
        run(db, tmp_path / "missing.json")


def test_records_before_a_break_are_kept_and_a_rerun_completes(db: Session, tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text(UHRI.read_text()[:-40])
    with pytest.raises(ImportFileError):
        import_file(db, broken, Filters(), actor="cli", now=NOW)
    # Batches commit as they go; a batch of one shows it record by record.
    from storage.importers.records import import_records
    from storage.importers.uhri import read_uhri

    with broken.open("rb") as stream, pytest.raises(ImportFileError):
        import_records(db, read_uhri(stream), Filters(), id_column="uhri_id", actor="cli",
                       now=NOW, batch=1)
    assert len(all_recs(db)) == 3
    shutil.copy(UHRI, broken)
    assert run(db, broken).new == 1


def test_upr_info_csv_with_multi_values(db: Session):
    counts = run(db, UPRINFO)
    assert counts.summary() == ("4 records read: 3 new, 0 updated, 0 unchanged; 1 skipped "
                                "(1 not recommendations)")
    recs = {r.uprinfo_id: r for r in all_recs(db)}
    first = recs["u-101"]
    assert first.recommending_states == ["Norway", "Ireland"]
    assert first.theme_list == ["Human rights defenders", "Freedom of association"]
    assert (first.country, first.cycle, first.session, first.position) == ("EG", 4, 43,
                                                                           "supported")
    assert (first.source, first.symbol, first.uhri_id) == ("upr", "A/HRC/52/12", None)
    second = recs["u-102"]
    assert (second.paragraph, second.text, second.position) == (
        "6.2", "Release all defenders detained for their peaceful work", "noted")
    assert recs["u-103"].position == "supported-noted" and recs["u-103"].affected == ""
    assert run(db, UPRINFO).unchanged == 3 and len(all_recs(db)) == 3


def test_upr_info_csv_names_missing_columns(db: Session, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Recommendation,Country\nDo something,Egypt\n")
    with pytest.raises(ImportFileError, match=r"id: one of entityid.*; its header is: "
                                              r"Recommendation, Country"):
        run(db, bad)


def test_a_field_too_long_for_its_column_is_skipped_not_cut(db: Session, tmp_path: Path):
    long = tmp_path / "long.csv"
    long.write_text("Entity id,Recommendation,State under Review,Document\n"
                    f"u-1,Do it,Egypt,{'A/' * 40}\nu-2,Do that,Egypt,A/HRC/1/1\n")
    counts = run(db, long)
    assert counts.new == 1 and counts.skipped["unreadable"] == 1
