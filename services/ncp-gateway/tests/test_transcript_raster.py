"""The transcript as a PDF reader shows it (poppler, from Debian's poppler-utils): its text reads back, and how
the embedded font is written (the table order) changes no pixel."""

import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from ncp_gateway.adapters import transcript_pdf
from ncp_gateway.settings import Settings
from ncp_testkit.elmo import course, institution, learner, make_elmo


def rasterised(pdf: bytes, directory: Path, name: str) -> bytes:
    source = directory / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "110", "-gray", str(source), str(directory / name)], check=True)
    return b"".join(page.read_bytes() for page in sorted(directory.glob(f"{name}-*.pgm")))


def document():
    courses = [course(f"Kurssi {n} – “Ærø” ёлка Ωμέγα", code=f"K{n:03d}", ects="5") for n in range(12)]
    return make_elmo(courses, [institution("a.example.fi", "Aurora University", lang="en")],
                     student=learner("Zoë Μαρία", "Иванова", bday=None))


def test_the_transcript_reads_back_in_a_pdf_reader(tmp_path: Path) -> None:
    renderer = transcript_pdf.TranscriptRenderer(Settings(env="test").pdf_font_path)
    source = tmp_path / "t.pdf"
    source.write_bytes(renderer.render(document()))
    text = subprocess.run(["pdftotext", str(source), "-"], check=True, capture_output=True, text=True).stdout
    for expected in ("EMREX transcript", "Zoë Μαρία Иванова", "Kurssi 11 – “Ærø” ёлка Ωμέγα", "K011"):
        assert expected in text
    fonts = subprocess.run(["pdffonts", str(source)], check=True, capture_output=True, text=True).stdout
    assert "CID TrueType" in fonts
    assert fonts.splitlines()[2].split()[-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, with a ToUnicode map


def test_writing_the_font_once_in_compile_order_changes_no_pixel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    renderer = transcript_pdf.TranscriptRenderer(Settings(env="test").pdf_font_path)
    once = renderer.render(document())
    monkeypatch.setattr(transcript_pdf, "_DocumentFont", TTFont)  # fontTools' default: sorted, written twice
    sorted_tables = renderer.render(document())
    assert once != sorted_tables  # the font program differs in its table order only
    assert rasterised(once, tmp_path, "once") == rasterised(sorted_tables, tmp_path, "sorted")
