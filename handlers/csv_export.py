"""Files that leave the chat: CSV that opens right in spreadsheets and cannot run
formulas, and plain text that ends its last line."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.replies import OutFile


def csv_file(name: str, header: tuple[str, ...], rows: list[list[str]]) -> OutFile:
    """UTF-8 with a BOM so spreadsheets open it right; formula-looking cells are defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return OutFile(name, buffer.getvalue().encode("utf-8-sig"), "text/csv")


def text_file(name: str, text: str) -> OutFile:
    """UTF-8 text with a final newline: without one, tools drop or glue the last line."""
    return OutFile(name, (text.rstrip("\n") + "\n").encode("utf-8"), "text/plain")


def iso_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """``2026-11-25T00:57+01:00``: sortable, and it says its zone to whoever opens the file."""
    return "" if moment is None else moment.astimezone(tz).isoformat(timespec="minutes")


def _cell(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in Excel and LibreOffice.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
