"""The "EMREX transcript" PDF: learner, institutions, results, grades and credits, from the sent ELMO.

fpdf2 with a subset of DejaVu Sans embedded, so Greek, Cyrillic and accented names render while
the file stays small (emrex.md §2.4: keep the attachment light).

fpdf2 subsets the font again for every document, and the cost grows with the font: DejaVu Sans has
about 6,000 glyphs and OpenType layout tables that fpdf2 drops from its output anyway. So the renderer
first cuts the font, once, down to the scripts that names and course titles use (Latin, Greek,
Cyrillic and their punctuation, with the same outlines and metrics) and renders from that; a document
with a character outside it is rendered again from the whole font, exactly as before.
"""

import copy
import datetime as dt
import io
import tempfile
from decimal import Decimal
from pathlib import Path

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, TextEmphasis, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from emrex_elmo import Elmo, LearningOpportunitySpecification, format_decimal
from emrex_elmo.vocabulary import institution_code, pick_title, walk_with_depth
from ncp_gateway.adapters.pdf_table import RuledTable
from ncp_gateway.domain.outgoing import summarize

# Latin (with its extensions), Greek, Cyrillic, and the punctuation, currency and letter-like signs
# around them: what learners' names and course titles in European SIS data are written in.
REPERTOIRE = (
    *range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x2B0, 0x370), *range(0x370, 0x400),
    *range(0x400, 0x530), *range(0x1E00, 0x1F00), *range(0x2000, 0x2070), *range(0x20A0, 0x20C0),
    *range(0x2100, 0x2150),
)
RESULTS_HEADING = ("Code", "Title", "Date", "Grade", "ECTS")
# What `FPDF.table(col_widths=(14, 52, 14, 12, 8), line_height=5, first_row_as_headings=True, ...)` drew before.
RESULTS_TABLE = RuledTable(col_widths=(14, 52, 14, 12, 8), aligns=(Align.L, Align.L, Align.L, Align.L, Align.R),
                           line_height=5, headings_style=FontFace(emphasis=TextEmphasis.NONE,
                                                                  fill_color=(225, 225, 225)))
# fpdf2 drops these from every embedded subset; without them the per-document subsetting is cheaper.
_UNUSED_TABLES = ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "kern", "morx", "feat"]


def _cut(font_file: Path) -> bytes:
    """The font restricted to REPERTOIRE: same outlines, metrics, hinting and glyph names."""
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True,
                               name_IDs=["*"], name_languages=["*"], hinting=True, layout_features=[])
    options.drop_tables += _UNUSED_TABLES
    font = TTFont(str(font_file), recalcTimestamp=False)
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=REPERTOIRE)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _Template:
    """An FPDF document with the font added; deep-copied per document (parsing a TTF costs far more)."""

    def __init__(self, font_file: Path) -> None:
        template = FPDF(format="A4")
        # One font: every font embedded is subset again for each document (~50 ms); headings use size.
        template.add_font("DejaVu", "", str(font_file))
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

    def new_document(self) -> FPDF:
        # The fonts' width and glyph tables are filled when the font is added and only read afterwards (a width
        # table gives missing characters the default width, the same for every document): documents share them.
        shared: dict[int, object] = {}
        for font in self._template.fonts.values():
            if isinstance(font, TTFFont):
                shared.update({id(font.cw): font.cw, id(font.glyph_ids): font.glyph_ids})
        pdf = copy.deepcopy(self._template, shared)
        for key, font in pdf.fonts.items():
            if isinstance(font, TTFFont):
                # The copy shares the template's font object, and fpdf2 subsets that object in place when it
                # writes: each document gets its own (opening one from memory is cheap; the widths are copied).
                # The outlines are not changed, so their bounding boxes need not be decompiled and recomputed.
                font.ttfont = TTFont(io.BytesIO(self._font_bytes[key]), recalcTimestamp=False, recalcBBoxes=False,
                                     lazy=True)
        return pdf


def _missing_glyphs(pdf: FPDF) -> bool:
    return any(isinstance(font, TTFFont) and font.missing_glyphs for font in pdf.fonts.values())


class TranscriptRenderer:
    def __init__(self, regular_font: Path) -> None:
        if not regular_font.is_file():
            raise FileNotFoundError(f"PDF font {regular_font} is missing (Debian package fonts-dejavu-core)")
        self._whole = _Template(regular_font)
        with tempfile.TemporaryDirectory(prefix="ncp-pdf-font-") as directory:
            # fpdf2 adds fonts from files only; the template keeps the bytes, so the file can go.
            cut = Path(directory) / regular_font.name
            cut.write_bytes(_cut(regular_font))
            self._common = _Template(cut)

    def render(self, elmo: Elmo) -> bytes:
        pdf = self._common.new_document()
        document = self._draw(pdf, elmo)
        if _missing_glyphs(pdf):
            # A character outside REPERTOIRE: the whole font may have it.
            document = self._draw(self._whole.new_document(), elmo)
        return document

    def _draw(self, pdf: FPDF, elmo: Elmo) -> bytes:
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
            RESULTS_TABLE.draw(pdf, RESULTS_HEADING, [
                self._row(los, depth) for los, depth in walk_with_depth(report.learning_opportunity_specifications)])
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
