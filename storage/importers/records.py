"""What the importers share: a recommendation as read from a file, the filters, and the
write in batches.

Readers (``uhri``, ``uprinfo``) yield :class:`SourceRecord` one at a time; nothing
holds the whole file. :func:`import_records` filters them, and writes a batch at
a time in one transaction each: rows whose source id is new are inserted, rows
already there are updated where a field changed, so an import run twice adds
nothing. A batch commits on its own, so a running bot is not locked out of the
database for the whole import; should the file break off, what came before
stays, and running the import again after fixing the file completes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from storage.countries import find_country
from storage.numbering import next_numbers
from storage.recommendations import LAST_RECOMMENDATION_ID, TABLE, joined

IdColumn = Literal["uhri_id", "uprinfo_id"]
# The columns an import writes, compared to decide whether a row changed.
FIELDS = ("source", "body", "country", "recommending", "cycle", "session", "symbol",
          "paragraph", "text", "position", "themes", "affected", "published")
LIMITS = {"body": 128, "symbol": 64, "paragraph": 32, "id": 64}
BATCH = 1000
# Why a record was not imported, as the summary words it.
CONCERN, FILTERED, NO_STATE, INVALID, REPEATED = (
    "not recommendations", "filtered out", "no known State", "unreadable", "repeated in the file")


class ImportFileError(ValueError):
    """The file cannot be read (as a whole, or from some record on): the message says where."""


@dataclass(frozen=True)
class SourceRecord:
    """One entry of an export, cleaned but not yet filtered."""

    source_id: str
    is_recommendation: bool
    source: str
    body: str
    countries: tuple[str, ...]
    text: str
    recommending: tuple[str, ...] = ()
    cycle: int | None = None
    session: int | None = None
    symbol: str = ""
    paragraph: str = ""
    position: str = ""
    themes: tuple[str, ...] = ()
    affected: tuple[str, ...] = ()
    published: date | None = None


@dataclass(frozen=True)
class Filters:
    """``--country`` (ISO alpha-2), ``--affected`` (words, any of them), ``--since`` (a year)."""

    country: str | None = None
    affected: tuple[str, ...] = ()
    since: int | None = None

    def admits(self, record: SourceRecord, codes: list[str]) -> str | None:
        """Why the record is left out, or None."""
        if self.country is not None and self.country not in codes:
            return FILTERED
        if self.affected:
            held = [a.casefold() for a in record.affected]
            if not any(want.casefold() in a for want in self.affected for a in held):
                return FILTERED
        if self.since is not None and (record.published is None
                                       or record.published.year < self.since):
            return FILTERED
        return None


@dataclass
class ImportCounts:
    read: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def imported(self) -> int:
        return self.new + self.updated + self.unchanged

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def summary(self) -> str:
        why = ", ".join(f"{n:,} {reason}" for reason, n in self.skipped.most_common())
        return (f"{self.read:,} records read: {self.new:,} new, {self.updated:,} updated, "
                f"{self.unchanged:,} unchanged; {self.skipped_total:,} skipped"
                + (f" ({why})" if why else ""))


Progress = Callable[[ImportCounts], None]


@cache
def country_code(name: str) -> str | None:
    found = find_country(name)
    return None if found is None else found.code


def import_records(db: Session, records: Iterable[SourceRecord], filters: Filters, *,
                   id_column: IdColumn, actor: str, now: datetime, batch: int = BATCH,
                   progress: Progress | None = None) -> ImportCounts:
    counts = ImportCounts()
    pending: dict[str, dict[str, Any]] = {}
    for record in records:
        counts.read += 1
        row, reason = _row(record, filters)
        if reason is not None:
            counts.skipped[reason] += 1
        elif row is not None:
            if record.source_id in pending:
                counts.skipped[REPEATED] += 1
            pending[record.source_id] = row
        if len(pending) >= batch:
            _write(db, pending, counts, id_column=id_column, actor=actor, now=now)
            pending = {}
            if progress is not None:
                progress(counts)
    if pending:
        _write(db, pending, counts, id_column=id_column, actor=actor, now=now)
    if progress is not None:
        progress(counts)
    return counts


def _row(record: SourceRecord, filters: Filters) -> tuple[dict[str, Any] | None, str | None]:
    if not record.is_recommendation:
        return None, CONCERN
    codes = [c for c in (country_code(n) for n in record.countries) if c]
    excluded = filters.admits(record, codes)
    if excluded is not None:
        return None, excluded
    if not codes:
        return None, NO_STATE
    if (not record.text or not record.source_id or len(record.source_id) > LIMITS["id"]
            or any(len(getattr(record, f)) > n for f, n in LIMITS.items() if f != "id")):
        return None, INVALID
    country = filters.country if filters.country in codes else codes[0]
    return {"source": record.source, "body": record.body, "country": country,
            "recommending": joined(record.recommending), "cycle": record.cycle,
            "session": record.session, "symbol": record.symbol, "paragraph": record.paragraph,
            "text": record.text, "position": record.position, "themes": joined(record.themes),
            "affected": joined(record.affected), "published": record.published}, None


def _write(db: Session, rows: dict[str, dict[str, Any]], counts: ImportCounts, *,
           id_column: IdColumn, actor: str, now: datetime) -> None:
    key = TABLE.c[id_column]
    existing = {r[0]: r for r in db.connection().execute(
        select(key, TABLE.c.id, *(TABLE.c[f] for f in FIELDS)).where(key.in_(list(rows))))}
    new = [k for k in rows if k not in existing]
    changed = []
    for source_id, found in existing.items():
        row = rows[source_id]
        if tuple(found[2:]) == tuple(row[f] for f in FIELDS):
            counts.unchanged += 1
        else:
            changed.append({"row_id": found[1], "new_updated_at": now,
                            **{f"new_{f}": row[f] for f in FIELDS}})
    if new:
        first = next_numbers(db, TABLE.c.id, LAST_RECOMMENDATION_ID, len(new))
        db.connection().execute(insert(TABLE), [
            {**rows[k], "id": first + n, id_column: k, "statuses": "", "created_by": actor,
             "created_at": now, "updated_at": now} for n, k in enumerate(new)])
    if changed:
        db.connection().execute(
            update(TABLE).where(TABLE.c.id == bindparam("row_id"))
            .values({f: bindparam(f"new_{f}") for f in (*FIELDS, "updated_at")}), changed)
    db.commit()
    counts.new += len(new)
    counts.updated += len(changed)

