"""The coalition's indicators, computed from its own records; small numbers never shown.

Each case is counted once (a case referred twice is one referred case). Any count
from 1 to 4 is shown as "<5", and a share or a median over fewer than five cases
is not shown at all: small numbers identify people. Zero is shown as 0: it names
nobody. Outcome beside public reaction is a correlation, and says so.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.rec_calendar import all_upr_dates
from storage.cases import CHANNELS, CONSENT_SCOPES
from storage.countries import name_of
from storage.indicators import (
    CaseFacts,
    case_facts,
    cases_since,
    collector_paused,
    naive,
    pseudonym_history,
    tag_counts,
)
from storage.recommendations import defender_gap

SMALL = 5
DAY = timedelta(days=1)
OUTCOME_WINDOW = timedelta(days=90)
RECURRENCE_WINDOW = timedelta(days=365)


def shown(n: int) -> str:
    """A count as it may be shown: "<5" for 1 to 4."""
    return "<5" if 0 < n < SMALL else f"{n:,}"


def share(k: int, n: int) -> str:
    """"62% (13 of 21)"; a share of fewer than five cases, or of a part under five, is not."""
    if n < SMALL or 0 < k < SMALL:
        return f"{shown(k)} of {shown(n)}"
    return f"{round(100 * k / n)}% ({k:,} of {n:,})"


def percent(k: int, n: int) -> float | None:
    """The share for a chart, or None where it may not be shown."""
    return None if n < SMALL or 0 < k < SMALL else 100 * k / n


def duration(hours: list[float]) -> str:
    if len(hours) < SMALL:
        return "not shown (fewer than 5 cases)"
    middle = statistics.median(hours)
    return f"{middle:.0f} h" if middle < 72 else f"{middle / 24:.1f} days"


@dataclass(frozen=True)
class Row:
    """One figure: its indicator, what it measures, the value as shown."""

    indicator: str
    measure: str
    value: str


@dataclass(frozen=True)
class Bar:
    """One bar of the chart, a share in percent: None where it may not be shown ("<5")."""

    panel: str
    label: str
    value: float | None


@dataclass
class Figures:
    cases: int
    rows: list[Row] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)

    def add(self, indicator: str, measure: str, value: str) -> None:
        self.rows.append(Row(indicator, measure, value))


RESPONSE, PUBLIC, CONSENT, CHANNEL = ("1. Flag to first referral", "2. Flag to first public "
                                      "reaction", "3. Consent coverage",
                                      "4. Referral coverage")
PLACES, OUTCOME, RECURRENCE, GAP = ("5. Cases", "6. Outcome within 90 days",
                                    "7. Recurrence", "8. Recommendation gap")


def compute(db: Session, *, start: datetime | None, end: datetime, country: str | None,
            confidential: bool) -> Figures:
    # All of it synchronous, and all it allocates lives until the answer is sent.
    with collector_paused():
        facts = case_facts(db, start=start, end=end, country=country,
                           confidential=confidential)
        history = pseudonym_history(db, start=None if start is None
                                    else start - RECURRENCE_WINDOW, end=end,
                                    confidential=confidential)
        figures = Figures(len(facts))
        figures.add("Cases", "flagged in the period", shown(len(facts)))
        _response(figures, facts)
        _consent_and_channels(figures, facts)
        _places(figures, facts, tag_counts(db, start=start, end=end, country=country,
                                           confidential=confidential))
        _outcome(figures, facts, naive(end))
        _recurrence(figures, facts, history)
        _gap(db, figures, country, end, confidential)
    return figures


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def _response(figures: Figures, facts: list[CaseFacts]) -> None:
    n = len(facts)
    delays = [_hours(f.flagged_at, min(at for at, _ in f.referrals)) for f in facts
              if f.referrals]
    within = {h: sum(1 for d in delays if d <= h) for h in (24, 72)}
    figures.add(RESPONSE, "median (cases referred)", duration(delays))
    for h, k in within.items():
        figures.add(RESPONSE, f"within {h} h (of all cases)", share(k, n))
        figures.bars.append(Bar("Response", f"referred within {h} h", percent(k, n)))
    eligible = [f for f in facts if "publish-name" in f.consent]
    public = [_hours(f.flagged_at, f.public_at) for f in eligible if f.public_at is not None]
    fast = sum(1 for d in public if d <= 48)
    figures.add(PUBLIC, "cases with publish-name consent", shown(len(eligible)))
    figures.add(PUBLIC, "median (cases with a reaction)", duration(public))
    figures.add(PUBLIC, "within 48 h", share(fast, len(eligible)))
    figures.bars.append(Bar("Response", "public reaction within 48 h",
                            percent(fast, len(eligible))))


def _consent_and_channels(figures: Figures, facts: list[CaseFacts]) -> None:
    n = len(facts)
    scopes: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    for fact in facts:  # each case once per scope and per channel
        scopes.update(fact.consent)
        channels.update({c for _, c in fact.referrals})
    for scope in CONSENT_SCOPES:
        figures.add(CONSENT, scope, share(scopes[scope], n))
        figures.bars.append(Bar("Consent", scope, percent(scopes[scope], n)))
    for channel in CHANNELS:
        figures.add(CHANNEL, channel, share(channels[channel], n))
        figures.bars.append(Bar("Referrals", channel, percent(channels[channel], n)))


def _places(figures: Figures, facts: list[CaseFacts], tags: list[tuple[str, int, int]]) -> None:
    total: Counter[str] = Counter()
    verified: Counter[str] = Counter()
    for fact in facts:
        total[fact.country] += 1
        verified[fact.country] += fact.verified
    by_country = [(name_of(code), n, verified[code]) for code, n in total.items()]
    for kind, rows in (("by country", by_country), ("by type (tag)", tags)):
        for key, n, v in sorted(rows, key=lambda row: (-row[1], row[0])):
            figures.add(f"{PLACES} {kind}", key, f"{shown(n)} ({shown(v)} verified)")


def _outcome(figures: Figures, facts: list[CaseFacts], end: datetime) -> None:
    mature = [f for f in facts if f.flagged_at <= end - OUTCOME_WINDOW]

    def resolved(f: CaseFacts) -> bool:
        return (f.status == "closed" and f.close_reason == "resolved" and f.closed_at is not None
                and f.closed_at - f.flagged_at <= OUTCOME_WINDOW)

    def reacted(f: CaseFacts) -> bool:
        return f.public_at is not None and f.public_at - f.flagged_at <= OUTCOME_WINDOW

    for label, group in (("with a public reaction", [f for f in mature if reacted(f)]),
                         ("without one", [f for f in mature if not reacted(f)])):
        figures.add(OUTCOME, f"closed as resolved, {label}",
                    share(sum(1 for f in group if resolved(f)), len(group)))
    figures.add(OUTCOME, "note", "a correlation among cases flagged 90+ days ago, not a cause")


def _recurrence(figures: Figures, facts: list[CaseFacts],
                history: dict[str, list[datetime]]) -> None:
    people: set[str] = set()
    again: set[str] = set()
    for fact in facts:
        key = " ".join((fact.pseudonym or "").casefold().split())
        if not key:
            continue
        people.add(key)
        if any(fact.flagged_at - RECURRENCE_WINDOW <= t < fact.flagged_at
               for t in history.get(key, [])):
            again.add(key)
    figures.add(RECURRENCE, "people (by pseudonym) with a new case within 12 months",
                f"{shown(len(again))} of {shown(len(people))} people with a pseudonym")


def _gap(db: Session, figures: Figures, country: str | None, end: datetime,
         confidential: bool) -> None:
    gaps = defender_gap(db, country)
    if not gaps:
        figures.add(GAP, "supported recommendations on defenders", "none kept")
    dates = all_upr_dates(db)
    reviewed = {state: datetime.combine(d.reviewed_on, datetime.min.time(), tzinfo=end.tzinfo)
                for state, d in dates.items() if state in gaps and d.reviewed_on is not None}
    counts = cases_since(db, reviewed, end=end, confidential=confidential)
    for state, (supported, undone) in sorted(gaps.items(), key=lambda kv: name_of(kv[0])):
        since = (f"; {shown(counts[state])} cases since its review at {dates[state].reviewed}"
                 if state in counts else "")
        figures.add(GAP, name_of(state), f"{shown(undone)} of {shown(supported)} supported "
                    f"recommendations on defenders not implemented or regressed{since}")
