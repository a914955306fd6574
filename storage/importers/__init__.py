"""Importers of UN recommendations: the UHRI JSON export and the UPR Info CSV export.

:func:`import_file` tells the two apart by the file's first bytes (a JSON array
or a CSV header) and hands the records to ``records.import_records``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from storage.importers.records import (
    Filters,
    ImportCounts,
    ImportFileError,
    import_records,
)
from storage.importers.uhri import read_uhri, starts_as_json
from storage.importers.uprinfo import read_uprinfo

__all__ = ["Filters", "ImportCounts", "ImportFileError", "import_file"]

# Told after each batch: the counts so far and how many bytes of the file are read.
FileProgress = Callable[[ImportCounts, int], None]


def import_file(db: Session, path: Path, filters: Filters, *, actor: str, now: datetime,
                progress: FileProgress | None = None) -> ImportCounts:
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ImportFileError(f"cannot open {path}: {exc.strerror or exc}") from None
    with stream:
        def tick(counts: ImportCounts) -> None:
            if progress is not None:
                progress(counts, stream.tell())

        if starts_as_json(stream.read(64)):
            stream.seek(0)
            return import_records(db, read_uhri(stream), filters, id_column="uhri_id",
                                  actor=actor, now=now, progress=tick)
        stream.seek(0)
        return import_records(db, read_uprinfo(stream), filters, id_column="uprinfo_id",
                              actor=actor, now=now, progress=tick)
