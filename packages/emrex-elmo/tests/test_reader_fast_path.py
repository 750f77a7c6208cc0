"""The reader builds specification trees without pydantic when no text validator would act (issue 13).

Whatever path a document takes, the model must be exactly what full validation gives: these tests read each
document both ways (the fast path switched off by making `plain()` answer False) and compare, and check that text
which the validators change or refuse still is changed or refused.
"""

from pathlib import Path

import pytest

from emrex_elmo import ElmoParseError, _los_builder, from_xml, to_xml
from ncp_testkit import course, learner, make_elmo

ELMO = "https://github.com/emrex-eu/elmo-schemas/tree/v1"


def _read_both_ways(xml: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    fast = from_xml(xml)
    with monkeypatch.context() as patch:
        patch.setattr(_los_builder.LosBuilder, "plain", lambda self: False)
        slow = from_xml(xml)
    return fast, slow


def test_every_reference_sample_reads_the_same_both_ways(samples: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read = 0
    for path in sorted(samples.glob("*.xml")):
        try:
            fast, slow = _read_both_ways(path.read_bytes(), monkeypatch)
        except ElmoParseError:
            continue
        assert fast == slow, path.name
        read += 1
    assert read >= 5


def _doc(title: str, lang: str = "en", scheme: str = "ects", description: str = "") -> bytes:
    xml = to_xml(
        make_elmo(
            courses=[course("PLACEHOLDER", ects="7.5", grade="B", code="C1")], student=learner("Kari", "Nordmann")
        )
    )
    xml = xml.replace(b">PLACEHOLDER<", f">{title}<".encode(), 1)
    xml = xml.replace(b'xml:lang="en">' + title.encode(), f'xml:lang="{lang}">{title}'.encode(), 1)
    xml = xml.replace(b"<scheme>ects</scheme>", f"<scheme>{scheme}</scheme>".encode(), 1)
    if description:
        xml = xml.replace(b"<specifies>", f"<description>{description}</description><specifies>".encode(), 1)
    return xml


@pytest.mark.parametrize(
    ("title", "lang", "scheme", "description"),
    [
        ("Linear Algebra", "en", "ects", ""),  # plain: the fast path
        ("Linear  Algebra", "en", "ects", ""),  # two spaces: collapsed
        ("Linear&#9;Algebra", "en", "ects", ""),  # a tab by character reference: collapsed
        ("Linear Algebra", " en ", "ects", ""),  # an attribute with spaces at its ends: trimmed
        ("Linear Algebra", "en", "ECTS", ""),  # the scheme rule
        ("Linear Algebra", "en", "ects", "line one&#13;&#10;line two"),  # CRLF by reference: stored as LF
        ("Linear Algebra", "en", "ects", "one\ttwo\n  three"),  # plain multi-line text
    ],
)
def test_text_reads_as_full_validation_stores_it(
    title: str, lang: str, scheme: str, description: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    xml = _doc(title, lang, scheme, description)
    fast, slow = _read_both_ways(xml, monkeypatch)
    assert fast == slow
    los = fast.reports[0].learning_opportunity_specifications[0]  # type: ignore[attr-defined]
    assert los.titles[0].value == "Linear Algebra"
    assert los.specifies.credits[0].scheme == "ects"
    if description:
        assert "\r" not in los.descriptions[0].value


def test_a_rare_part_that_full_validation_refuses_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    xml = _doc("Linear Algebra").replace(
        b"<credit>",
        b"<resultDistribution><category label='A' count='-1'/></resultDistribution><credit>",
        1,
    )
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(_los_builder.LosBuilder, "plain", lambda self: False)
            with pytest.raises(ElmoParseError):
                from_xml(xml)
