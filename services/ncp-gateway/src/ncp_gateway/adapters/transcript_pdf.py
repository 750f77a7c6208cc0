"""The "EMREX transcript" PDF: learner, institutions, results, grades and credits, from the sent ELMO.

fpdf2 with a subset of DejaVu Sans embedded, so Greek, Cyrillic and accented names render while
the file stays small (emrex.md §2.4: keep the attachment light).
"""

import copy
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import TextEmphasis, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from emrex_elmo import Elmo, LearningOpportunitySpecification, format_decimal
from ncp_gateway.domain.outgoing import institution_code, summarize
from ncp_gateway.domain.results_view import pick_title


class TranscriptRenderer:
    def __init__(self, regular_font: Path) -> None:
        if not regular_font.is_file():
            raise FileNotFoundError(f"PDF font {regular_font} is missing (Debian package fonts-dejavu-core)")
        # Parsing a TTF costs ~30 ms; a deep copy of a document that has the fonts costs ~6 ms.
        template = FPDF(format="A4")
        # One font: every font embedded is subset again for each document (~50 ms); headings use size.
        template.add_font("DejaVu", "", str(regular_font))
        self._font_bytes: dict[str, bytes] = {}
        for key, font in template.fonts.items():
            if not isinstance(font, TTFFont):
                continue
            self._font_bytes[key] = Path(font.ttffile).read_bytes()
            # fontTools reads lazily and keeps the file open for the process: read from memory instead.
            reader = getattr(font.ttfont, "reader", None)
            if reader is not None and not isinstance(reader.file, io.BytesIO):
                reader.file.close()
                reader.file = io.BytesIO(self._font_bytes[key])
        self._template = template

    def render(self, elmo: Elmo) -> bytes:
        pdf = copy.deepcopy(self._template)
        for key, font in pdf.fonts.items():
            if isinstance(font, TTFFont):
                # The copy shares the template's font object, and fpdf2 subsets that object in place when it
                # writes: each document gets its own (opening one from memory is cheap; the widths are copied).
                font.ttfont = TTFont(io.BytesIO(self._font_bytes[key]), recalcTimestamp=False, lazy=True)
        pdf.set_title("EMREX transcript")
        pdf.set_creator("EMREX NCP gateway")
        pdf.set_creation_date(elmo.generated_date if elmo.generated_date.tzinfo else
                              elmo.generated_date.replace(tzinfo=dt.UTC))
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()
        pdf.set_font("DejaVu", "", 16)
        pdf.cell(0, 10, "EMREX transcript", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        learner = elmo.learner
        pdf.set_font("DejaVu", "", 10)
        name = " ".join(p for p in (learner.given_names, learner.family_name) if p)
        lines = [f"Learner: {name or '-'}"]
        if learner.bday:
            lines.append(f"Date of birth: {learner.bday.isoformat()}")
        lines.append(f"Generated: {elmo.generated_date.isoformat(timespec='seconds')}")
        for line in lines:
            pdf.cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for report in elmo.reports:
            pdf.ln(4)
            pdf.set_font("DejaVu", "", 12)
            title = pick_title(report.issuer.titles, "en") or institution_code(report)
            pdf.multi_cell(0, 7, f"{title} ({institution_code(report)})", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("DejaVu", "", 9)
            with pdf.table(col_widths=(14, 52, 14, 12, 8), text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT"),
                           line_height=5, first_row_as_headings=True,
                           headings_style=FontFace(emphasis=TextEmphasis.NONE, fill_color=(225, 225, 225))) as table:
                table.row(["Code", "Title", "Date", "Grade", "ECTS"])
                for los, depth in _walk(report.learning_opportunity_specifications, 0):
                    table.row(self._row(los, depth))
        total = summarize(elmo).credits
        pdf.ln(4)
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(0, 6, f"Total ECTS credits: {format_decimal(total) if total else '0'}",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return bytes(pdf.output())

    @staticmethod
    def _row(los: LearningOpportunitySpecification, depth: int) -> list[str]:
        loi = los.specifies
        credit = loi.credit("ects")
        status = "" if loi.passed else f" ({loi.status})"
        return [
            los.identifier("local") or (los.identifiers[0].value if los.identifiers else ""),
            "  " * depth + pick_title(los.titles, "en") + status,
            when.isoformat() if (when := loi.date or loi.start) else "",
            loi.result_label or "",
            format_decimal(credit) if isinstance(credit, Decimal) else "",
        ]


def _walk(
    items: list[LearningOpportunitySpecification], depth: int
) -> Iterator[tuple[LearningOpportunitySpecification, int]]:
    for los in items:
        yield los, depth
        yield from _walk(los.has_part, depth + 1)
