"""The EMREX transcript PDF: a real PDF of the sent data whose fonts cover non-Latin names."""

import datetime as dt
import re
import zlib

from emrex_elmo import Elmo
from ncp_gateway.adapters.transcript_pdf import TranscriptRenderer
from ncp_gateway.settings import Settings
from ncp_testkit.elmo import course, institution, learner, make_elmo

NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


def streams(pdf: bytes) -> list[bytes]:
    out = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            out.append(match.group(1))
    return out


def renderer() -> TranscriptRenderer:
    settings = Settings(env="test")
    return TranscriptRenderer(settings.pdf_font_path)


def named(given: str, family: str) -> Elmo:
    return make_elmo([], [institution("a.example.fi", "A", lang="en", url="https://a.example.fi/")],
                     student=learner(given, family, bday=None), generated=NOW)


def test_one_renderer_serves_documents_with_different_characters():
    """fpdf2 subsets fonts in place: a later document must not lose glyphs an earlier one did not use."""
    shared = renderer()
    for given, family in [("Aa", "Bb"), ("Ωμέγα", "Жук"), ("Zoë", "Ærø"), ("Ωμέγα", "Жук")]:
        pdf = shared.render(named(given, family))
        maps = b"".join(s for s in streams(pdf) if b"beginbfchar" in s).upper()
        for char in set(given + family):
            assert f"{ord(char):04X}".encode() in maps, char


def test_transcript_is_a_pdf_whose_fonts_map_greek_and_cyrillic_names():
    renderer_ = renderer()
    algebra = course("Άλγεβρα", code="ΜΑΘ-101", lang="el", ects="7.5", grade="9", status=None,
                     date=dt.date(2025, 1, 20))
    elmo = make_elmo([algebra], [institution("aegean.example.gr", "Πανεπιστήμιο Αιγαίου", lang="el")],
                     student=learner("Μαρία", "Иванова", bday=dt.date(2001, 2, 3)), generated=NOW)
    pdf = renderer_.render(elmo)
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"/Title (EMREX transcript)" in pdf or b"EMREX transcript" in pdf
    assert len(pdf) < 60_000  # subset fonts keep the attachment light
    unicode_maps = b"".join(s for s in streams(pdf) if b"beginbfchar" in s or b"beginbfrange" in s).upper()
    for char in set(elmo.learner.given_names + elmo.learner.family_name + "Άλγεβρα") - {" "}:
        assert f"{ord(char):04X}".encode() in unicode_maps, char
    assert len(renderer_.render(elmo)) == len(pdf)  # renders repeat from the same template


def test_characters_outside_the_common_scripts_still_render_from_the_whole_font():
    """The renderer keeps a cut of the font for Latin, Greek and Cyrillic; others fall back to the whole font."""
    shared = renderer()
    for given, family in [("ნინო", "Ωμέγα"), ("Zoë", "Жук"), ("אבי", "Łukasz")]:
        pdf = shared.render(named(given, family))
        maps = b"".join(s for s in streams(pdf) if b"beginbfchar" in s).upper()
        for char in set(given + family):
            assert f"{ord(char):04X}".encode() in maps, char


def test_each_document_renders_from_the_smallest_cut_that_holds_its_characters(monkeypatch):
    """Western European names from the Latin-1 cut, Romanian ș and ț from the Latin one, Greek from the larger
    one, Georgian from the whole font; each PDF maps every character it shows."""
    shared = renderer()
    served: list[str] = []
    templates = [("western", shared._cuts[0][1]), ("latin", shared._cuts[1][1]), ("common", shared._cuts[2][1]),
                 ("whole", shared._whole)]
    for name, template in templates:
        monkeypatch.setattr(template, "new_document",
                            lambda template=template, name=name: served.append(name) or type(template).new_document(
                                template))
    for given, family in [("Zoë", "Ærø – “Åse”"), ("Ștefan", "Țurcanu"), ("Zoë", "Ωμέγα"), ("ნინო", "Smith")]:
        pdf = shared.render(named(given, family))
        maps = b"".join(s for s in streams(pdf) if b"beginbfchar" in s).upper()
        for char in set(given + family) - {" "}:
            assert f"{ord(char):04X}".encode() in maps, char
    assert served == ["western", "latin", "common", "whole"]


def test_every_cut_draws_the_same_glyphs_as_the_whole_font():
    """A cut changes how much font is subset per document, never what is drawn: the same document rendered
    from each cut that holds its characters embeds the same glyph outlines and widths as from the whole font."""
    import io

    from fontTools.ttLib import TTFont

    shared = renderer()
    elmo = named("Zoë", "Ærø")

    def embedded(template) -> tuple[dict[str, bytes], dict[str, tuple[int, int]]]:
        pdf = shared._draw(template.new_document(), elmo, shared._layout(elmo))
        fonts = [s for s in streams(pdf) if s[:4] in (b"\x00\x01\x00\x00", b"true")]
        assert len(fonts) == 1
        font = TTFont(io.BytesIO(fonts[0]))
        cmap = font.getBestCmap()
        glyf = font["glyf"]
        outlines = {chr(u): glyf[name].compile(glyf) for u, name in cmap.items() if chr(u) in "Zoë Ærø"}
        widths = {chr(u): font["hmtx"][name] for u, name in cmap.items() if chr(u) in "Zoë Ærø"}
        return outlines, widths

    whole = embedded(shared._whole)
    for _, template in shared._cuts:
        assert embedded(template) == whole
