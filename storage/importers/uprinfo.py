"""The UPR Info database's CSV export: one recommendation a row, multi-values split by ``|``.

Columns are found by their header, whatever its case, spacing or punctuation
("State under Review", "state_under_review"); the ones read are in HEADERS.
The entity id, the recommendation and the State under review are required; a
row whose type says it is a voluntary pledge or a question is not imported.
Read row by row, so memory stays flat whatever the file's size.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import IO

from storage.importers.cleaning import (
    first_int,
    label,
    labels,
    paragraph_and_text,
    plain_text,
    position_of,
    read_date,
)
from storage.importers.records import ImportFileError, SourceRecord

MULTI = "|"
# Field: the headers (folded to letters and digits) it may have in an export.
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("entityid", "sharedid", "id", "recommendationid", "uprinfoid"),
    "text": ("recommendation", "title", "text"),
    "state": ("stateunderreview", "sur", "state", "country"),
    "recommending": ("recommendingstate", "recommendingstates", "recommendingcountry",
                     "recommendingcountries", "fromstate"),
    "cycle": ("cycle", "uprcycle"),
    "session": ("session", "uprsession"),
    "response": ("response", "position", "stateresponse", "statesresponse"),
    "themes": ("issues", "issue", "themes", "theme"),
    "affected": ("affectedpersons", "affectedgroups", "groups"),
    "symbol": ("document", "documentsymbol", "symbol"),
    "paragraph": ("paragraph", "para", "paragraphnumber"),
    "date": ("date", "reviewdate", "dateofreview", "publicationdate"),
    "kind": ("type", "referencetype", "documenttype"),
}
REQUIRED = ("id", "text", "state")
NOT_RECOMMENDATIONS = ("pledge", "commitment", "question")


def _fold(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.casefold())


def columns(header: list[str]) -> dict[str, int]:
    """Which column holds which field; an error naming what is missing."""
    folded = [_fold(h) for h in header]
    found = {name: folded.index(alias) for name, aliases in HEADERS.items()
             for alias in reversed(aliases) if alias in folded}
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        wanted = "; ".join(f"{name}: one of {', '.join(HEADERS[name])}" for name in missing)
        raise ImportFileError(f"the UPR Info CSV lacks required columns ({wanted}); its header "
                              f"is: {', '.join(header)[:300]}")
    return found


def read_uprinfo(stream: IO[bytes]) -> Iterator[SourceRecord]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("the file is empty")
        where = columns(header)
        for row in reader:
            if any(cell.strip() for cell in row):
                yield _record(row, where)
    except csv.Error as exc:
        raise ImportFileError(f"unreadable CSV at line {reader.line_num:,} ({exc}); the rows "
                              "before it were imported") from None


def _record(row: list[str], where: dict[str, int]) -> SourceRecord:
    def cell(name: str) -> str:
        n = where.get(name)
        return row[n] if n is not None and n < len(row) else ""

    def many(name: str) -> tuple[str, ...]:
        return labels(cell(name), separator=MULTI)

    paragraph, words = paragraph_and_text(plain_text(cell("text")))
    kind = cell("kind").casefold()
    return SourceRecord(
        source_id=label(cell("id")),
        is_recommendation=not any(w in kind for w in NOT_RECOMMENDATIONS),
        source="upr", body="UPR", countries=many("state"), text=words,
        paragraph=label(cell("paragraph")) or paragraph, symbol=label(cell("symbol")),
        recommending=many("recommending"), cycle=first_int(cell("cycle")),
        session=first_int(cell("session")), position=position_of(many("response")),
        themes=many("themes"), affected=many("affected"), published=read_date(cell("date")))
