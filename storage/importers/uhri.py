"""The Universal Human Rights Index's full export: one JSON array of annotations.

The file is large (about 360 MB), so it is parsed as a stream with ijson (its C
backend where installed): one record is in memory at a time, whatever the file's
size. Each record has ``AnnotationId``, ``AnnotationType`` ("- Recommendations"
or "- Concerns/Observations"), ``Body`` ("- UPR", "- CRC", "- SR Human Rights
Defenders"), ``Countries``, ``Symbol``, ``Text`` (may hold HTML, and starts with
the paragraph number), ``Themes``, ``AffectedPersons``, ``Sdgs``,
``PublicationDate``, ``UprCycle``, ``UprSession``, ``UprPositions``,
``UprRecommendingCountry`` and ``Regions``; lists may come as one string.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson

from storage.importers.cleaning import (
    first_int,
    label,
    labels,
    paragraph_and_text,
    plain_text,
    position_of,
    read_date,
    source_of,
)
from storage.importers.records import ImportFileError, SourceRecord


def starts_as_json(head: bytes) -> bool:
    """Whether a file's first bytes look like the UHRI export (a JSON array)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")


def read_uhri(stream: IO[bytes]) -> Iterator[SourceRecord]:
    """The records of a (seekable) UHRI export, one at a time."""
    head = stream.read(64)
    if not starts_as_json(head):
        shown = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1") or "nothing"
        raise ImportFileError("a UHRI export is one JSON array of records ([{...}, ...]); "
                              f"this file starts with '{shown}'")
    stream.seek(0)
    done = 0
    try:
        for item in ijson.items(stream, "item", use_float=True):
            done += 1
            yield record_of(item)
    except ijson.JSONError as exc:
        raise ImportFileError(f"not valid JSON after record {done:,} ({_first_line(exc)}); the "
                              "records before it were imported") from None


def record_of(item: Any) -> SourceRecord:
    """One annotation as a SourceRecord; one that is not an object reads as unreadable."""
    if not isinstance(item, dict):
        return SourceRecord(source_id="", is_recommendation=True, source="", body="",
                            countries=(), text="")
    if not label(item.get("AnnotationType")).casefold().startswith("recommend"):
        # A concern or an observation: counted, never stored, so nothing more is read.
        return SourceRecord(source_id=label(item.get("AnnotationId")), is_recommendation=False,
                            source="", body="", countries=(), text="")
    body = label(item.get("Body"))
    source = source_of(body)
    paragraph, text = paragraph_and_text(plain_text(item.get("Text")))
    return SourceRecord(
        source_id=label(item.get("AnnotationId")),
        is_recommendation=True,
        source=source, body=body, countries=labels(item.get("Countries"), separator=";"),
        text=text, paragraph=paragraph, symbol=label(item.get("Symbol")),
        recommending=labels(item.get("UprRecommendingCountry"), separator=";"),
        cycle=first_int(item.get("UprCycle")), session=first_int(item.get("UprSession")),
        position=position_of(labels(item.get("UprPositions"))) if source == "upr" else "",
        themes=labels(item.get("Themes"), separator=";"),
        affected=labels(item.get("AffectedPersons"), separator=";"),
        published=read_date(item.get("PublicationDate")))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]

