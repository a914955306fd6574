"""The table a mid-term report needs, as CSV and as a Word document.

Columns: paragraph, recommendation, recommending States, position, status,
evidence, linked public cases. A confidential case is never listed, wherever the
export is asked for: the file leaves the chat.
"""

from __future__ import annotations

import io

from bot.arguments import Args, Param
from bot.commands import Command, CommandError, Role
from bot.context import Context
from bot.replies import OutFile, Reply
from handlers.csv_export import csv_file
from handlers.rec_views import origin, read_filters, where_from
from storage.cases import Case
from storage.countries import name_of
from storage.recommendations import (
    Recommendation,
    assessments,
    find_recommendations,
    latest_by_organisation,
    linked_cases,
)

HEADER = ("paragraph", "recommendation", "recommending States", "position", "status",
          "evidence", "linked public cases")
FORMATS = ("csv", "docx")
# A Word table of thousands of rows is no report; a CSV this long still opens.
MOST = {"csv": 50_000, "docx": 2_000}
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def export_recs(ctx: Context, args: Args) -> Reply:
    words = list(args["filters"])
    fmt = "csv"
    if words and words[-1].lower() in FORMATS:
        fmt = words.pop().lower()
    country, status, theme, _ = read_filters(words)
    rows, total = find_recommendations(ctx.db, country=country, status=status, theme=theme,
                                       limit=MOST[fmt] + 1)
    if total == 0:
        raise CommandError("No recommendations match: nothing to export.")
    if total > MOST[fmt]:
        raise CommandError(f"{total:,} recommendations match; a {fmt} export takes at most "
                           f"{MOST[fmt]:,}. Name a State (and a status or #theme).")
    table = [_row(ctx, rec, with_country=country is None) for rec in rows]
    header = HEADER if country is not None else ("State", *HEADER)
    title = (f"Recommendations to {name_of(country)}" if country else "Recommendations")
    stamp = f"{ctx.local(ctx.now):%Y-%m-%d}"
    name = f"recommendations-{country.lower() + '-' if country else ''}{stamp}.{fmt}"
    ctx.audit("rec.export", country or "all", f"{fmt}, {len(table)} rows")
    file = (csv_file(name, header, table) if fmt == "csv"
            else docx_file(name, title, f"As of {stamp}; {len(table)} recommendations.",
                           header, table))
    return Reply.of(f"{len(table):,} recommendation{'s' if len(table) != 1 else ''} exported "
                    f"({fmt}).", file=file)


def _row(ctx: Context, rec: Recommendation, *, with_country: bool) -> list[str]:
    latest = latest_by_organisation(assessments(ctx.db, rec.key))
    status = "; ".join(f"{r.status} ({r.organisation})" for r in latest) or "not-assessed"
    evidence = "; ".join(f"{r.organisation}, {ctx.local(r.at):%Y-%m-%d}: {r.evidence}"
                         for r in latest if r.evidence)
    cases = (ctx.db.get(Case, n) for n in linked_cases(ctx.db, rec.key))
    public = ", ".join(f"#{c.id}" for c in cases if c is not None and not c.confidential)
    row = [where_from(rec) or origin(rec), rec.text, ", ".join(rec.recommending_states),
           rec.position or "—", status, evidence, public]
    return [name_of(rec.country), *row] if with_country else row


def docx_file(name: str, title: str, subtitle: str, header: tuple[str, ...],
              rows: list[list[str]]) -> OutFile:
    """A landscape Word document with the title and the table, header row repeated."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(title, level=1)
    document.add_paragraph(subtitle)
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = _printable(text)
    for paragraph in (p for row in table.rows for cell in row.cells for p in cell.paragraphs):
        for run in paragraph.runs:
            run.font.size = Pt(9)
    out = io.BytesIO()
    document.save(out)
    return OutFile(name, out.getvalue(), DOCX_MIME)


def _printable(text: str) -> str:
    """XML takes no control characters; a text pasted from a PDF may carry some."""
    return "".join(c for c in text if c in "\n\t" or ord(c) >= 32)


COMMANDS = [
    Command("recs", export_recs, "Export the mid-term table (CSV or Word)", sub="export",
            params=(Param("filters", kind="words", optional=True),), role=Role.SECRETARIAT,
            read_only=True, usage_text="[country] [status] [#theme] [csv|docx]",
            example="/recs export Egypt docx",
            details="Columns: paragraph, recommendation, recommending States, position, status, "
                    "evidence, linked public cases (confidential cases are never listed)."),
]
