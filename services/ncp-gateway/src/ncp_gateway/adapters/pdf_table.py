"""A ruled table drawn exactly as fpdf2's `FPDF.table()` draws it, for the transcript's one kind of table.

`FPDF.table()` lays every cell out twice, in a dry run of `multi_cell` to learn the row heights and again to draw
it, and `multi_cell` breaks text into lines character by character: together about half of the gateway's CPU per
flow. Almost every transcript cell (codes, dates, grades, credits, most titles) fits on one line, which its width
alone tells; such a cell is drawn with `cell`, which is what `multi_cell` draws for one line. A cell that may wrap
goes through fpdf2's own line breaker as before. The drawing calls are the ones `FPDF.table()` makes, in the same
order, so the document is the same byte for byte (a test compares the two).

Supported: one heading row (repeated on top of every page, kept with the first row), every border drawn
(fpdf2's default layout), text vertically centred in its row, no spans, images or gutters.
"""

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, TableCellStyle, WrapMode, XPos, YPos
from fpdf.fonts import FontFace, TTFFont
from fpdf.line_break import Fragment, TextLine

_EVERY_BORDER = TableCellStyle(left=True, bottom=True, right=True, top=True)
# A cell whose width is this far below the limit fits on one line however the line breaker sums the widths
# (it adds them character by character, with a 1e-9-sized tolerance); anything closer is measured by fpdf2.
_FIT_MARGIN = 1e-6
# Characters that break a line or change the line breaker's arithmetic: such cells are measured by fpdf2.
_LINE_BREAKERS = frozenset("\n\r\f\u00ad")


class _Text(NamedTuple):
    """A cell's text and its height as `multi_cell` reports it (0 when empty); `fragments` when it is known to
    fit on one line: the styled fragments `cell` would make of it, measured once and drawn as `cell` draws."""

    text: str
    height: float
    fragments: Sequence[Fragment] | None = None


@dataclass(frozen=True)
class RuledTable:
    """Columns in proportions of the effective page width (the table is as wide as that, centred), their
    alignments, the line height and the headings' style over the document's font when the table is drawn."""

    col_widths: Sequence[float]
    aligns: Sequence[Align]
    line_height: float
    headings_style: FontFace

    def draw(self, pdf: FPDF, heading: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        body_style = pdf.font_face()
        heading_style = FontFace.combine(body_style, self.headings_style)
        assert heading_style is not None  # None only when both are
        total = sum(self.col_widths)
        width = pdf.epw
        widths = [ratio / total * width for ratio in self.col_widths]
        previous_l_margin = pdf.l_margin
        # Centred as fpdf2 centres a table, with the margin moved for the page breaks in between.
        pdf.l_margin = pdf.x = (pdf.w - width) / 2
        lefts = list(accumulate(widths[:-1], initial=pdf.l_margin))
        # Measuring writes nothing: fpdf2's table measures inside the same switch, each row in its style.
        with pdf._disable_writing():
            with pdf.use_font_face(heading_style):
                table = [self._laid_out(pdf, heading, widths)]
            with pdf.use_font_face(body_style):
                table += [self._laid_out(pdf, row, widths) for row in rows]
        heights = [max(cell.height for cell in row) or self.line_height for row in table]

        draw_row = _RowDrawer(pdf, self, widths, lefts, heading_style, body_style)
        if len(table) > 1:
            # fpdf2 keeps the heading with the first row (its issue #1391).
            _break_page_if_needed(pdf, heights[0] + heights[1])
        for i, row in enumerate(table):
            if _break_page_if_needed(pdf, heights[i]):
                if pdf.y + heights[i] > pdf.page_break_trigger:
                    raise ValueError(f"The row with index {i} is too high and cannot be rendered on a single page")
                if i >= 1:
                    draw_row(0, table[0], heights[0])
            draw_row(i, row, heights[i])
        pdf.l_margin = previous_l_margin
        pdf.x = pdf.l_margin

    def _laid_out(self, pdf: FPDF, row: Sequence[str], widths: Sequence[float]) -> list[_Text]:
        """The row's cells measured in the style set (writing switched off)."""
        cells: list[_Text] = []
        room_less_margins = [width - 2 * pdf.c_margin for width in widths]
        font = pdf.current_font
        for j, text in enumerate(row):
            if not text:
                cells.append(_Text(text, 0.0))
                continue
            # What `cell` makes of the text in this style (a single-direction text's width is the same as
            # `get_string_width` measures on its bidirectional reading: a sum over the same glyphs).
            fragments = (pdf._preload_font_styles(pdf.normalize_text(text), False)
                         if _LINE_BREAKERS.isdisjoint(text) and not text.endswith(" ") else None)
            if fragments is not None and (sum(f.get_width(initial_cs=i != 0) for i, f in enumerate(fragments))
                                          < room_less_margins[j] - _FIT_MARGIN):
                cells.append(_Text(text, self.line_height, fragments))
                if isinstance(font, TTFFont):
                    # fpdf2's measuring run renders the line, which numbers the glyphs of the embedded subset
                    # in the order they first appear (and notes missing ones): number them the same way.
                    for character in text:
                        font.subset.pick(ord(character))
            else:
                cells.append(_Text(text, self._measured(pdf, text, widths[j], self.aligns[j])))
        return cells

    def _measured(self, pdf: FPDF, text: str, width: float, align: Align) -> float:
        height = pdf.multi_cell(w=width, h=self.line_height, text=text, max_line_height=self.line_height,
                                align=align, new_x=XPos.RIGHT, new_y=YPos.TOP, wrapmode=WrapMode.WORD,
                                dry_run=True, output=MethodReturnValue.HEIGHT)
        assert isinstance(height, float)
        return height


class _RowDrawer:
    def __init__(self, pdf: FPDF, table: RuledTable, widths: Sequence[float], lefts: Sequence[float],
                 heading_style: FontFace, body_style: FontFace) -> None:
        self._pdf, self._table, self._widths, self._lefts = pdf, table, widths, lefts
        self._heading_style, self._body_style = heading_style, body_style

    def __call__(self, index: int, row: Sequence[_Text], height: float) -> None:
        pdf, line_height = self._pdf, self._table.line_height
        style = self._heading_style if index == 0 else self._body_style
        top = pdf.y
        for j, cell in enumerate(row):
            pdf.set_x(self._lefts[j])
            left = pdf.x
            _EVERY_BORDER.draw_cell_border(pdf, left, top, left + self._widths[j], top + height,
                                           fill_color=style.fill_color)
            if cell.text:
                offset = (height - cell.height) / 2
                pdf.y += offset
                with _in_face(pdf, style):
                    if cell.fragments is not None:
                        # What multi_cell draws for one line, without its line breaker: `cell`'s own drawing, on
                        # the fragments it would have made again.
                        pdf._render_styled_text_line(
                            TextLine(cell.fragments, text_width=0, number_of_spaces=0, align=self._table.aligns[j],
                                     height=line_height, max_width=self._widths[j], trailing_nl=False),
                            line_height, 0, new_x=XPos.RIGHT, new_y=YPos.TOP, fill=False, link="", center=False,
                            prevent_font_change=False)
                    else:
                        pdf.multi_cell(w=self._widths[j], h=line_height, text=cell.text, max_line_height=line_height,
                                       border=0, align=self._table.aligns[j], new_x=XPos.RIGHT, new_y=YPos.TOP,
                                       fill=False, wrapmode=WrapMode.WORD)
                pdf.y -= offset
            pdf.set_y(top)
        pdf.ln(height)


def _in_face(pdf: FPDF, style: FontFace) -> AbstractContextManager[None]:
    """`pdf.use_font_face(style)`, as fpdf2's table enters it for every cell. When `style` is the face already set
    (the body rows), all it changes is that the font is set again in the page's content before the next text, so
    only that is done: two `set_font` calls and a generator per cell less."""
    if not (pdf.underline or pdf.strikethrough) and style == pdf.font_face():
        pdf.current_font_is_set_on_page = False
        return nullcontext()
    return pdf.use_font_face(style)


def _break_page_if_needed(pdf: FPDF, height: float) -> bool:
    """fpdf2's own page break for an element of this height (the one its tables use), keeping x."""
    if not pdf.will_page_break(height):
        return False
    pdf._perform_page_break()  # the page break fpdf2 tables use, with its hooks
    return True
