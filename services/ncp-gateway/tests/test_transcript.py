"""The EMREX transcript PDF: a real PDF of the sent data whose fonts cover non-Latin names."""

import datetime as dt
import re
import zlib
from decimal import Decimal

from emrex_elmo import (
    Credit,
    Elmo,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    LocalizedToken,
    Report,
)
from ncp_gateway.adapters.transcript_pdf import TranscriptRenderer
from ncp_gateway.settings import Settings

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
    return Elmo(generated_date=NOW, learner=Learner(given_names=given, family_name=family), reports=[
        Report(issuer=Issuer(identifiers=[Identifier(type="schac", value="a.example.fi")],
                             titles=[LocalizedToken(value="A", lang="en")], url="https://a.example.fi/"),
               issue_date=NOW)])


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
    course = LearningOpportunitySpecification(
        identifiers=[Identifier(type="local", value="ΜΑΘ-101")], titles=[LocalizedToken(value="Άλγεβρα", lang="el")],
        type="Course", specifies=LearningOpportunityInstance(result_label="9", date=dt.date(2025, 1, 20),
                                                             credits=[Credit(scheme="ects", value=Decimal("7.5"))]),
    )
    elmo = Elmo(generated_date=NOW, learner=Learner(given_names="Μαρία", family_name="Иванова",
                                                    bday=dt.date(2001, 2, 3)),
                reports=[Report(issuer=Issuer(identifiers=[Identifier(type="schac", value="aegean.example.gr")],
                                              titles=[LocalizedToken(value="Πανεπιστήμιο Αιγαίου", lang="el")],
                                              url="https://www.aegean.example.gr/"),
                                issue_date=NOW, learning_opportunity_specifications=[course])])
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
