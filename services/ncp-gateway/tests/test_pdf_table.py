"""The transcript's ruled table draws what fpdf2's `FPDF.table()` draws, byte for byte.

The reference is fpdf2's own table with the options the transcript used before; cells cover the fast path (a
line that fits), the measured path (wrapping, long words, line breaks, soft hyphens, widths at the edge), empty
cells, non-Latin scripts and page breaks with the heading repeated.
"""

import datetime as dt
from collections.abc import Sequence

import pytest
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from ncp_gateway.adapters.pdf_table import RuledTable
from ncp_gateway.adapters.transcript_pdf import RESULTS_HEADING, RESULTS_TABLE, _Template
from ncp_gateway.settings import Settings

FONT = Settings(env="test").pdf_font_path
WHEN = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
TEMPLATE = _Template(FONT)


def new_document() -> FPDF:
    pdf = TEMPLATE.new_document()  # the renderer's own (it closes the font file fontTools leaves open)
    pdf.set_creation_date(WHEN)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "", 12)
    pdf.multi_cell(0, 7, "Institution (example.org)", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("DejaVu", "", 9)
    return pdf


def with_fpdf2_table(rows: Sequence[Sequence[str]], table: RuledTable = RESULTS_TABLE) -> bytes:
    pdf = new_document()
    with pdf.table(col_widths=tuple(table.col_widths), text_align=tuple(a.value for a in table.aligns),
                   line_height=table.line_height, first_row_as_headings=True,
                   headings_style=table.headings_style) as drawn:
        drawn.row(list(RESULTS_HEADING))
        for row in rows:
            drawn.row(list(row))
    pdf.cell(0, 6, "after the table", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def with_ruled_table(rows: Sequence[Sequence[str]], table: RuledTable = RESULTS_TABLE) -> bytes:
    pdf = new_document()
    table.draw(pdf, RESULTS_HEADING, rows)
    pdf.cell(0, 6, "after the table", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def title_of_width(millimetres: float) -> str:
    """A title as close to `millimetres` wide at 9 pt as whole characters allow (the edge of a cell)."""
    pdf = new_document()
    text = ""
    while pdf.get_string_width(text + "m") <= millimetres:
        text += "m"
    return text


CASES: dict[str, list[list[str]]] = {
    "short cells": [["C1", "Algebra", "2025-01-20", "5", "5"], ["C2", "Analysis", "", "", "7.5"]],
    "wrapping title": [["C3", "Introduction to " * 12 + "everything", "2025-01-20", "excellent", "10"]],
    "a word longer than its cell": [["ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "x" * 150, "2025", "A", "5"]],
    "line breaks and soft hyphens": [["C4", "First line\nsecond line", "", "", ""],
                                     ["C5", "Auto\u00admatic\u00adally hy\u00adphen\u00adated " * 6, "", "", "1"]],
    "greek and cyrillic": [["ΜΑΘ-101", "Άλγεβρα και Γεωμετρία", "2025-01-20", "9", "7.5"],
                           ["МАТ-1", "Математический анализ " * 4, "2025-02-01", "отлично", "5"]],
    "empty row": [["", "", "", "", ""]],
    "nested titles": [["P", "Programme", "", "", "180"], ["M1", "    Module one (failed)", "2024", "F", ""]],
}


@pytest.mark.parametrize("case", CASES)
def test_the_ruled_table_draws_what_fpdf2_draws(case: str) -> None:
    assert with_ruled_table(CASES[case]) == with_fpdf2_table(CASES[case])


def test_titles_at_the_edge_of_their_cell_break_as_fpdf2_breaks_them() -> None:
    pdf = new_document()
    room = RESULTS_TABLE.col_widths[1] / sum(RESULTS_TABLE.col_widths) * pdf.epw - 2 * pdf.c_margin
    rows = [["E", title_of_width(room + delta), "", "", ""] for delta in (-0.5, -0.01, 0.0, 0.01, 0.5)]
    assert with_ruled_table(rows) == with_fpdf2_table(rows)


def test_page_breaks_repeat_the_heading_as_fpdf2_does() -> None:
    rows = [[f"C{n}", f"Course {n} " + "with a longer title " * (n % 4), "2025-01-20", "4", "5"] for n in range(140)]
    drawn = with_ruled_table(rows)
    assert drawn.count(b"/Type /Page\n") >= 3
    assert drawn == with_fpdf2_table(rows)


def test_a_heading_alone_at_the_foot_of_a_page_moves_to_the_next_with_the_first_row() -> None:
    def near_the_foot(render: object) -> bytes:
        pdf = new_document()
        pdf.set_y(pdf.page_break_trigger - 7)
        rows = [["C1", "Algebra", "2025-01-20", "5", "5"]]
        if render is RuledTable:
            RESULTS_TABLE.draw(pdf, RESULTS_HEADING, rows)
        else:
            with pdf.table(col_widths=(14, 52, 14, 12, 8), text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT"),
                           line_height=5, headings_style=RESULTS_TABLE.headings_style) as drawn:
                for row in [list(RESULTS_HEADING), *rows]:
                    drawn.row(row)
        return bytes(pdf.output())

    assert near_the_foot(RuledTable) == near_the_foot(FPDF.table)
    assert near_the_foot(RuledTable).count(b"/Type /Page\n") == 2
