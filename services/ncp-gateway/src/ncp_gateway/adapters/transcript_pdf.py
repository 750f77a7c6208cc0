"""The "EMREX transcript" PDF: learner, institutions, results, grades and credits, from the sent ELMO.

fpdf2 with a subset of DejaVu Sans embedded, so Greek, Cyrillic and accented names render while
the file stays small (emrex.md §2.4: keep the attachment light).

fpdf2 subsets the font again for every document, and the cost grows with the font: DejaVu Sans has
about 6,000 glyphs and OpenType layout tables that fpdf2 drops from its output anyway. So the renderer
first cuts the font, once, into the scripts that names and course titles use, with the same outlines
and metrics: Western European Latin (Latin-1 and typographic punctuation, about 250 glyphs), all of Latin
(about 600), and Latin, Greek and Cyrillic (about 1,700). A document is rendered from the smallest cut
that holds every character it shows (most documents need Western Latin or Latin alone: about 10% and 15%
less CPU per document than the next larger cut), and one with a character outside all three from the
whole font, exactly as before. The embedded subset has the same glyphs, outlines and metrics whichever
cut it comes from.
"""

import copy
import datetime as dt
import io
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.enums import Align, TextEmphasis, XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from emrex_elmo import Elmo, LearningOpportunitySpecification, format_decimal
from emrex_elmo.vocabulary import institution_code, pick_title, walk_with_depth
from ncp_gateway.adapters.font_tables import remember_table_classes
from ncp_gateway.adapters.pdf_table import RuledTable
from ncp_gateway.domain.outgoing import summarize

# Latin-1 with the dashes, quotes, bullets and ellipsis of General Punctuation, the euro and trade mark signs:
# names and titles in the languages of Western and Northern Europe.
WESTERN = (*range(0x20, 0x7F), *range(0xA0, 0x100), *range(0x2010, 0x203B), 0x20AC, 0x2122)
# Latin (Basic, Latin-1, Extended-A and -B: Romanian, Baltic, Slavic, Nordic, Turkish letters) and the
# punctuation, currency and letter-like signs around it: most learners' names and course titles.
LATIN = (*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x2000, 0x2070), *range(0x20A0, 0x20C0),
         *range(0x2100, 0x2150))
# Latin with its further extensions, Greek and Cyrillic: what names and titles in European SIS data are written in.
REPERTOIRE = tuple(sorted({*LATIN, *range(0x2B0, 0x370), *range(0x370, 0x400), *range(0x400, 0x530),
                           *range(0x1E00, 0x1F00)}))
RESULTS_HEADING = ("Code", "Title", "Date", "Grade", "ECTS")
# What `FPDF.table(col_widths=(14, 52, 14, 12, 8), line_height=5, first_row_as_headings=True, ...)` drew before.
RESULTS_TABLE = RuledTable(col_widths=(14, 52, 14, 12, 8), aligns=(Align.L, Align.L, Align.L, Align.L, Align.R),
                           line_height=5, headings_style=FontFace(emphasis=TextEmphasis.NONE,
                                                                  fill_color=(225, 225, 225)))
# fpdf2 drops these from every embedded subset; without them the per-document subsetting is cheaper.
_UNUSED_TABLES = ["FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "kern", "morx", "feat"]


def _cut(font_file: Path, repertoire: Sequence[int]) -> bytes:
    """The font restricted to `repertoire`: same outlines, metrics, hinting and glyph names."""
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True,
                               name_IDs=["*"], name_languages=["*"], hinting=True, layout_features=[])
    options.drop_tables += _UNUSED_TABLES
    font = TTFont(str(font_file), recalcTimestamp=False)
    subsetter = ftsubset.Subsetter(options)
    subsetter.populate(unicodes=repertoire)
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _DocumentFont(TTFont):  # type: ignore[misc]  # fontTools has no type information here
    """The font a document subsets and embeds. fpdf2 saves it with fontTools' default table order, which writes
    the font twice (the second time sorted by tag); a PDF reader finds its tables through the directory in any
    order, so it is written once, in the order fontTools compiles them (its "fastest")."""

    def save(self, file: Any, reorderTables: bool | None = None) -> None:
        super().save(file, reorderTables=reorderTables)


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
                font.ttfont = _DocumentFont(io.BytesIO(self._font_bytes[key]), recalcTimestamp=False,
                                            recalcBBoxes=False, lazy=True)
        return pdf


def _missing_glyphs(pdf: FPDF) -> bool:
    return any(isinstance(font, TTFFont) and font.missing_glyphs for font in pdf.fonts.values())


@dataclass(frozen=True)
class _Report:
    heading: str
    rows: list[list[str]]


@dataclass(frozen=True)
class _Layout:
    """Every text a transcript shows, in drawing order: what decides the font cut, then what is drawn."""

    lines: list[str]
    reports: list[_Report]
    total: str

    def characters(self) -> set[str]:
        texts = [*self.lines, self.total, *(r.heading for r in self.reports),
                 *(cell for r in self.reports for row in r.rows for cell in row), *RESULTS_HEADING]
        return set("".join(texts))


class TranscriptRenderer:
    def __init__(self, regular_font: Path) -> None:
        if not regular_font.is_file():
            raise FileNotFoundError(f"PDF font {regular_font} is missing (Debian package fonts-dejavu-core)")
        remember_table_classes()
        self._whole = _Template(regular_font)
        # The cuts, smallest first, each with the characters it holds.
        self._cuts: list[tuple[frozenset[str], _Template]] = []
        with tempfile.TemporaryDirectory(prefix="ncp-pdf-font-") as directory:
            # fpdf2 adds fonts from files only; the template keeps the bytes, so the file can go.
            for name, repertoire in (("western", WESTERN), ("latin", LATIN), ("common", REPERTOIRE)):
                cut = Path(directory) / name / regular_font.name
                cut.parent.mkdir()
                cut.write_bytes(_cut(regular_font, repertoire))
                self._cuts.append((frozenset(map(chr, repertoire)), _Template(cut)))

    def render(self, elmo: Elmo) -> bytes:
        layout = self._layout(elmo)
        characters = layout.characters()
        template = next((t for held, t in self._cuts if characters <= held), self._whole)
        pdf = template.new_document()
        document = self._draw(pdf, elmo, layout)
        if _missing_glyphs(pdf) and template is not self._whole:
            # A character the cut should hold but does not (DejaVu lacks a few): the whole font may have it.
            document = self._draw(self._whole.new_document(), elmo, layout)
        return document

    def _layout(self, elmo: Elmo) -> _Layout:
        learner = elmo.learner
        name = " ".join(p for p in (learner.given_names, learner.family_name) if p)
        lines = [f"Learner: {name or '-'}"]
        if learner.bday:
            lines.append(f"Date of birth: {learner.bday.isoformat()}")
        lines.append(f"Generated: {elmo.generated_date.isoformat(timespec='seconds')}")
        reports = [
            _Report(f"{pick_title(report.issuer.titles, 'en') or institution_code(report)} "
                    f"({institution_code(report)})",
                    [self._row(los, depth)
                     for los, depth in walk_with_depth(report.learning_opportunity_specifications)])
            for report in elmo.reports
        ]
        total = summarize(elmo).credits
        return _Layout(lines, reports, f"Total ECTS credits: {format_decimal(total) if total else '0'}")

    def _draw(self, pdf: FPDF, elmo: Elmo, layout: _Layout) -> bytes:
        pdf.set_title("EMREX transcript")
        pdf.set_creator("EMREX NCP gateway")
        pdf.set_creation_date(elmo.generated_date if elmo.generated_date.tzinfo else
                              elmo.generated_date.replace(tzinfo=dt.UTC))
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_page()
        pdf.set_font("DejaVu", "", 16)
        pdf.cell(0, 10, "EMREX transcript", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_font("DejaVu", "", 10)
        for line in layout.lines:
            pdf.cell(0, 6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for report in layout.reports:
            pdf.ln(4)
            pdf.set_font("DejaVu", "", 12)
            pdf.multi_cell(0, 7, report.heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("DejaVu", "", 9)
            RESULTS_TABLE.draw(pdf, RESULTS_HEADING, report.rows)
        pdf.ln(4)
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(0, 6, layout.total, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
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
