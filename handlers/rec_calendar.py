"""A State's UPR dates, from its recommendations and the calendar, and their reminders.

A State's latest review is the newest UPR Working Group session among its
recommendations. Its next review is the same place in the next cycle (14
sessions on; 12 after the first cycle). The mid-term point is about two and a
half years after the review. The outcome is adopted by the first regular HRC
session opening at least eight weeks after the Working Group session ends (the
State answers the recommendations in between). Dates come from the calendar's
sessions (``UPR55``, ``HRC66``); a review the calendar does not hold is dated by
the earliest publication of its recommendations, a few weeks after it.

Reminders go to the rooms with reminders on, for every State the coalition
keeps recommendations of, at the configured session offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel import Session, col, select

from bot.config import Config
from bot.replies import Line, Reply, b, i, line
from handlers.when import closes_in
from storage.calendar import HrcSession
from storage.countries import name_of
from storage.recommendations import UprReview, defender_gap, upr_reviews
from storage.reminders import Planned, Reminder

MIDTERM = relativedelta(months=30)
ADOPTION_AFTER = timedelta(weeks=8)
ADOPTION_WITHIN = timedelta(days=200)
KIND = "upr"


@dataclass(frozen=True)
class UprDates:
    country: str
    reviewed: str  # "UPR44"
    reviewed_on: date | None  # the Working Group session's start, or the first publication
    review_session: HrcSession | None
    next_review: str  # "UPR58"
    next_session: HrcSession | None
    adoption: HrcSession | None  # adopts the latest review's outcome
    next_adoption: HrcSession | None  # adopts the next review's outcome

    @property
    def midterm(self) -> date | None:
        return None if self.reviewed_on is None else self.reviewed_on + MIDTERM


def next_session_number(session: int) -> int:
    return session + (12 if session <= 12 else 14)


class _Calendar:
    """The calendar's sessions, read once for however many States are dated."""

    def __init__(self, db: Session):
        self.sessions = {s.code: s for s in db.exec(select(HrcSession)
                                                    .order_by(col(HrcSession.start)))}
        self.council = [s for s in self.sessions.values() if s.kind == "hrc"]

    def adopting(self, upr: HrcSession | None) -> HrcSession | None:
        if upr is None:
            return None
        earliest = upr.end + ADOPTION_AFTER
        found = next((s for s in self.council if s.start >= earliest), None)
        return found if found is not None and found.start <= upr.end + ADOPTION_WITHIN else None

    def dates_of(self, review: UprReview) -> UprDates:
        code, following = f"UPR{review.session}", f"UPR{next_session_number(review.session)}"
        held, coming = self.sessions.get(code), self.sessions.get(following)
        return UprDates(review.country, code, held.start if held else review.published, held,
                        following, coming, self.adopting(held), self.adopting(coming))


def upr_dates(db: Session, country: str) -> UprDates | None:
    reviews = upr_reviews(db, country)
    return _Calendar(db).dates_of(reviews[0]) if reviews else None


def all_upr_dates(db: Session) -> dict[str, UprDates]:
    """Every State's, in one pass over the recommendations and one over the calendar."""
    calendar = _Calendar(db)
    return {review.country: calendar.dates_of(review) for review in upr_reviews(db)}


def plan_upr(db: Session, config: Config, now: datetime,
             rooms: tuple[str, ...]) -> list[Planned]:
    """The UPR reminders of every State with recommendations kept (see the module)."""
    tz, send = config.bot.tz, config.reminders.send_time
    out: list[Planned] = []

    def at(ref: str, day: date) -> None:
        for days in config.reminders.session_offsets_days:
            due = datetime.combine(day - timedelta(days=days), send, tzinfo=tz)
            if due > now:
                out.append(Planned(f"{KIND}:{ref}:{days}d:{due:%Y%m%d%H%M}", KIND, ref, due,
                                   rooms))

    for d in all_upr_dates(db).values():
        cc = d.country
        if d.next_session is not None:
            at(f"{cc}:review:{d.next_review}", d.next_session.start)
        if d.midterm is not None:
            at(f"{cc}:midterm:{d.reviewed}", d.midterm)
        for adoption, reviewed in ((d.adoption, d.reviewed), (d.next_adoption, d.next_review)):
            if adoption is not None:
                at(f"{cc}:adoption:{adoption.code}:{reviewed}", adoption.start)
    return out


def render_upr(db: Session, row: Reminder, config: Config, now: datetime) -> Reply | None:
    """The reminder's words, from the records as they are now; None if no longer true."""
    country, what, *rest = row.ref.split(":")
    d = upr_dates(db, country)
    if d is None:
        return None
    state, tz = name_of(country), config.bot.tz
    if what == "review" and d.next_session is not None and rest == [d.next_review]:
        s = d.next_session
        opens = datetime.combine(s.start, config.reminders.send_time, tzinfo=tz)
        return Reply.of(line(b(f"UPR — {state}'s next review"), f": {s.code}, Working Group "
                             f"{s.start:%-d %b} – {s.end:%-d %b %Y} "
                             f"({closes_in(opens, now, tz, verb='opens').split(' at ')[0]})."),
                        _gap_line(db, country, state))
    if what == "midterm" and d.midterm is not None and rest == [d.reviewed]:
        return Reply.of(line(b(f"UPR mid-term — {state}"), f": about two and a half years "
                             f"since its review at {d.reviewed}, on {d.midterm:%-d %b %Y}: the "
                             "point for a mid-term report."), _gap_line(db, country, state))
    if what == "adoption" and len(rest) == 2:
        session = db.get(HrcSession, rest[0])
        if session is None or rest[0] not in {a.code for a in (d.adoption, d.next_adoption)
                                              if a is not None}:
            return None
        return Reply.of(line(b(f"{session.code} adopts {state}'s UPR outcome"),
                             f" ({rest[1]}): the session opens {session.start:%a %-d %b %Y}. "
                             f"{state} states its position on each recommendation before."))
    return None


def _gap_line(db: Session, country: str, state: str) -> Line:
    supported, undone = defender_gap(db, country).get(country, (0, 0))
    return line(i(f"{supported} supported recommendation{'s' if supported != 1 else ''} on "
                  f"defenders kept for {state}; {undone} assessed not implemented or "
                  "regressed. /recs and /recs export list them."))
