"""Recommendations in storage: assessments kept side by side, links, numbering, erasure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from storage.cases import Case, add_case
from storage.erasure import erase_case
from storage.personal_data import erase_person, export_person
from storage.recommendations import (
    RecAssessment,
    RecCaseLink,
    Recommendation,
    add_recommendation,
    assess,
    assessments,
    find_recommendations,
    latest_by_organisation,
    link_case,
    linked_cases,
    recommendations_of_case,
    upr_reviews,
)

NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)



def rec(db: Session, country: str = "EG", **kw: object) -> Recommendation:
    fields: dict = {"source": "upr", "country": country, "text": "Protect defenders",
                    "position": "supported", "affected": "Human rights defenders",
                    "created_by": "telegram:1", "created_at": NOW, "updated_at": NOW, **kw}
    return add_recommendation(db, Recommendation(**fields))


def test_each_organisation_keeps_its_own_status_and_history(db: Session):
    r = rec(db)
    assess(db, r, status="initiated", organisation="Cairo Institute", assessed_by="telegram:2",
           at=NOW, evidence="draft law")
    assess(db, r, status="not-implemented", organisation="Gulf Centre", assessed_by="telegram:3",
           at=NOW + timedelta(hours=1))
    assess(db, r, status="partially-implemented", organisation="cairo institute.",
           assessed_by="telegram:2", at=NOW + timedelta(hours=2), evidence="law adopted")
    history = assessments(db, r.id or 0)
    assert [h.status for h in history] == ["initiated", "not-implemented",
                                           "partially-implemented"]
    latest = latest_by_organisation(history)
    assert [(x.organisation, x.status) for x in latest] == [
        ("Gulf Centre", "not-implemented"), ("cairo institute.", "partially-implemented")]
    # Disagreement is kept as it is, never averaged into one status.
    assert r.current_statuses == ["not-implemented", "partially-implemented"]
    assert find_recommendations(db, status="not-implemented")[1] == 1
    assert find_recommendations(db, status="initiated")[1] == 0  # superseded by its org
    assert find_recommendations(db, status="implemented")[1] == 0  # not partially-implemented
    assert find_recommendations(db, status="not-assessed")[1] == 0


def test_filters_by_country_and_theme_words(db: Session):
    rec(db, "EG")
    rec(db, "BH", affected="", themes="Death penalty")
    assert find_recommendations(db, country="BH")[1] == 1
    assert find_recommendations(db, theme="defenders")[1] == 1
    assert find_recommendations(db, theme="death penalty")[1] == 1
    assert find_recommendations(db, status="not-assessed")[1] == 2


def test_numbers_are_never_given_again(db: Session):
    first = rec(db)
    db.delete(first)
    db.flush()
    assert rec(db).id == (first.id or 0) + 1


def test_latest_upr_review_per_state(db: Session):
    rec(db, "EG", session=43, cycle=4, published=date(2023, 2, 1))
    rec(db, "EG", session=43, cycle=4, published=date(2023, 1, 27))
    rec(db, "EG", session=34, cycle=3)
    rec(db, "BH", session=41, cycle=4)
    rec(db, "IR", source="special-procedure", session=None)
    reviews = {r.country: r for r in upr_reviews(db)}
    assert set(reviews) == {"EG", "BH"}
    assert (reviews["EG"].session, reviews["EG"].published) == (43, date(2023, 1, 27))


def test_erasing_a_case_removes_its_links(db: Session):
    r = rec(db)
    case = add_case(db, Case(country="EG", summary="x", reporter_id="telegram:7",
                             room_id="telegram:7", created_at=NOW, updated_at=NOW), [])
    assert link_case(db, r, case.id or 0, by="telegram:7", at=NOW)
    assert not link_case(db, r, case.id or 0, by="telegram:7", at=NOW)
    db.flush()
    assert [x.id for x in recommendations_of_case(db, case.id or 0)] == [r.id]
    erase_case(db, case.id or 0)
    assert linked_cases(db, r.id or 0) == []
    assert db.exec(select(RecCaseLink)).all() == []


def test_a_person_s_assessments_are_exported_and_anonymised(db: Session):
    r = rec(db)
    assess(db, r, status="initiated", organisation="Cairo Institute", assessed_by="telegram:2",
           at=NOW, evidence="draft law")
    db.flush()
    data = export_person(db, "telegram:2", admins=(), now=NOW)
    assert data["recommendation_assessments"] == [{
        "recommendation": r.code, "status": "initiated", "organisation": "Cairo Institute",
        "at": NOW.isoformat(), "evidence": "draft law"}]
    counts = erase_person(db, "telegram:2", replacement="erased:1")
    assert counts["recassessment"] == 1
    row = db.exec(select(RecAssessment)).one()
    assert row.assessed_by == "erased:1" and row.organisation == "Cairo Institute"
