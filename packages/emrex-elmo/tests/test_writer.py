"""Serializer rules that come from receivers: namespace, declaration, `ects`, decimals, order, errors."""

import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

import emrex_elmo
from emrex_elmo import (
    Attachment,
    Credit,
    Elmo,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    LocalizedText,
    LocalizedToken,
    Report,
)
from emrex_elmo.model import GradingScheme
from ncp_testkit.elmo import course as make_course, institution, learner, make_elmo

NS = emrex_elmo.ELMO_NS
UTC = dt.UTC


def issuer(**changes: object) -> Issuer:
    uio = institution("uio.no", LocalizedToken(value="Universitetet i Oslo", lang="nb"),
                      LocalizedToken(value="UiO", lang="en"), country="NO")
    return uio.model_copy(update=changes)


def course(
    title: str = "Algoritmer", ects: Decimal | None = Decimal("10"), **loi: object
) -> LearningOpportunitySpecification:
    """A passed course with grade A and an `ECTS` credit (the writer lowercases it); `loi` adds to its result."""
    los = make_course(title, ects=ects, grade="A", code=title[:8], scheme="ECTS", date=None)
    return los.model_copy(update={"specifies": los.specifies.model_copy(update=loi)})


def document(*los: LearningOpportunitySpecification, **report: object) -> Elmo:
    values: dict[str, object] = {
        "issuer": issuer(),
        "learning_opportunity_specifications": list(los) or [course()],
        "issue_date": dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
    }
    return Elmo(
        generated_date=dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        learner=Learner(given_names="Kari", family_name="Nordmann", bday=dt.date(1999, 5, 17)),
        reports=[Report(**{**values, **report})],
    )


def test_output_starts_with_a_utf8_declaration_and_the_default_namespace() -> None:
    xml = emrex_elmo.to_xml(document())
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert f'<elmo xmlns="{NS}">'.encode() in xml
    assert b"ns0:" not in xml
    assert b"xmlns:" not in xml
    assert etree.fromstring(xml).nsmap == {None: NS}


def test_non_ascii_text_is_written_as_utf8_not_character_references() -> None:
    xml = emrex_elmo.to_xml(document(course("Åpen kilde – 漢字 😀")))
    assert "Åpen kilde – 漢字 😀".encode() in xml
    assert b"&#" not in xml


def test_credit_scheme_is_written_lowercase() -> None:
    xml = emrex_elmo.to_xml(document())
    assert b"<scheme>ects</scheme>" in xml
    assert b"ECTS" not in xml


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (Decimal("2.50"), "2.5"),
        (Decimal("120"), "120"),
        (Decimal("120.00"), "120"),
        (Decimal("0.5"), "0.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("1.2E+3"), "1200"),
        (Decimal("5E-7"), "0.0000005"),
        (Decimal("0E-3"), "0"),
        (Decimal("-0"), "0"),
        (Decimal("-7.50"), "-7.5"),
        (Decimal("10.000"), "10"),
    ],
)
def test_decimals_have_a_dot_no_exponent_and_no_trailing_zeros(value: Decimal, written: str) -> None:
    assert emrex_elmo.format_decimal(value) == written
    xml = emrex_elmo.to_xml(document(course(ects=value)))
    assert f"<value>{written}</value>".encode() in xml


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused(value: Decimal) -> None:
    with pytest.raises(emrex_elmo.ElmoSerializeError):
        emrex_elmo.format_decimal(value)


def test_dates_are_plain_and_datetimes_keep_their_offset() -> None:
    xml = emrex_elmo.to_xml(document())
    assert b"<bday>1999-05-17</bday>" in xml
    assert b"<generatedDate>2025-01-15T10:00:00+01:00</generatedDate>" in xml


def _child_names(el: etree._Element) -> list[str]:
    return [etree.QName(c).localname for c in el if isinstance(c.tag, str)]


def test_elements_follow_xsd_order() -> None:
    elmo = document(
        course(
            date=dt.date(2024, 12, 20),
            start=dt.date(2024, 8, 15),
            grading_scheme_local_id="AF",
            language_of_instruction="nb",
            engagement_hours=Decimal("270"),
        ),
        grading_schemes=[GradingScheme(local_id="AF", descriptions=[LocalizedText(value="A-F", lang="en")])],
        attachments=[Attachment(type="Transcript of Records", titles=[LocalizedToken(value="ToR")])],
    )
    elmo = elmo.model_copy(
        update={
            "attachments": [
                Attachment(
                    type="EMREX transcript",
                    contents=[LocalizedToken(value="data:application/pdf;base64,JVBERi0=", lang="en")],
                )
            ]
        }
    )
    root = etree.fromstring(emrex_elmo.to_xml(elmo))
    assert _child_names(root) == ["generatedDate", "learner", "report", "attachment"]
    report = root.find(f"{{{NS}}}report")
    assert report is not None
    assert _child_names(report) == [
        "issuer",
        "learningOpportunitySpecification",
        "issueDate",
        "gradingScheme",
        "attachment",
    ]
    assert _child_names(report[0]) == ["country", "identifier", "title", "title", "url"]
    loi = report.find(f".//{{{NS}}}learningOpportunityInstance")
    assert loi is not None
    assert _child_names(loi) == [
        "start",
        "date",
        "status",
        "gradingSchemeLocalId",
        "resultLabel",
        "credit",
        "languageOfInstruction",
        "engagementHours",
    ]
    assert emrex_elmo.schema_issues(root) == []


@pytest.mark.parametrize(
    ("elmo", "path"),
    [
        (document(issuer=issuer(titles=[])), "/elmo/report[1]/issuer/title"),
        (document(issuer=issuer(url=None)), "/elmo/report[1]/issuer/url"),
        (document(issuer=issuer(identifiers=[])), "/elmo/report[1]/issuer/identifier"),
        (
            document(course(), LearningOpportunitySpecification(titles=[])),
            "/elmo/report[1]/learningOpportunitySpecification[2]/title",
        ),
        (
            document(
                LearningOpportunitySpecification(
                    titles=[LocalizedToken(value="Kurs")],
                    type="Course",
                    has_part=[
                        LearningOpportunitySpecification(titles=[LocalizedToken(value="Grad")], type="Degree Programme")
                    ],
                )
            ),
            "/elmo/report[1]/learningOpportunitySpecification[1]/hasPart[1]/learningOpportunitySpecification/type",
        ),
        (
            document(LearningOpportunitySpecification(titles=[LocalizedToken(value="X")], type="Seminar")),
            "/elmo/report[1]/learningOpportunitySpecification[1]/type",
        ),
        (
            document(
                LearningOpportunitySpecification(
                    titles=[LocalizedToken(value="X")],
                    specifies=LearningOpportunityInstance(credits=[Credit(scheme="ects", level="-", value=Decimal(5))]),
                )
            ),
            "/elmo/report[1]/learningOpportunitySpecification[1]/specifies/learningOpportunityInstance/credit[1]/level",
        ),
        (
            document(attachments=[Attachment(type="Poster")]),
            "/elmo/report[1]/attachment[1]/type",
        ),
    ],
    ids=[
        "issuer-title",
        "issuer-url",
        "issuer-identifier",
        "los-title",
        "hierarchy",
        "los-type",
        "credit-level",
        "attachment-type",
    ],
)
def test_incomplete_models_are_refused_with_the_path_of_the_gap(elmo: Elmo, path: str) -> None:
    with pytest.raises(emrex_elmo.ElmoSerializeError) as err:
        emrex_elmo.to_xml(elmo)
    assert err.value.path == path
    assert err.value.code == "elmo_incomplete"
    assert str(err.value).startswith(path + ": ")


def test_a_document_without_reports_is_refused() -> None:
    with pytest.raises(emrex_elmo.ElmoSerializeError, match="at least one report"):
        emrex_elmo.to_xml(document().model_copy(update={"reports": []}))


def test_the_model_refuses_characters_xml_cannot_carry() -> None:
    with pytest.raises(ValueError, match="U\\+0001"):
        LocalizedToken(value="bad\x01")


def test_tokens_collapse_whitespace_as_the_xsd_does() -> None:
    assert LocalizedToken(value="  Ny \n\t kurs  ").value == "Ny kurs"
    # Multi-line text keeps its line breaks; CR LF becomes LF as any XML parser would make it.
    assert LocalizedText(value="a\r\nb\rc").value == "a\nb\nc"


def test_credit_level_is_dropped_from_2_0_output_and_bday_becomes_date_of_birth() -> None:
    elmo = document(
        course().model_copy(
            update={
                "specifies": LearningOpportunityInstance(
                    credits=[Credit(scheme="ects", level="Master", value=Decimal(5))]
                )
            }
        )
    )
    xml = emrex_elmo.to_xml(elmo, version="2.0.0")
    assert b"<level>" not in xml
    assert b"<dateOfBirth>1999-05-17</dateOfBirth>" in xml
    assert b"<bday>" not in xml
    assert b"<alternativeName>Kari Nordmann</alternativeName>" in xml
    assert emrex_elmo.schema_issues(xml, "2.0.0") == []


def test_profile_minimal_document_is_written_exactly() -> None:
    # emrex.md 3.3: the minimal valid document.
    when = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    elmo = make_elmo([], [institution("example.edu", "Example University", lang="en")],
                     student=learner("Maria", "Example", bday=None), generated=when)
    assert emrex_elmo.to_xml(elmo) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<elmo xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1">'
        b"<generatedDate>2025-01-15T10:00:00+01:00</generatedDate>"
        b"<learner><givenNames>Maria</givenNames><familyName>Example</familyName></learner>"
        b'<report><issuer><identifier type="schac">example.edu</identifier>'
        b'<title xml:lang="en">Example University</title><url>https://www.example.edu/</url></issuer>'
        b"<issueDate>2025-01-15T10:00:00+01:00</issueDate></report></elmo>"
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: emrex_elmo.Group(id="g\x02", titles=[LocalizedToken(value="G")]),
        lambda: emrex_elmo.GroupType(id="\x0b", titles=[LocalizedToken(value="G")]),
        lambda: emrex_elmo.Grouping(typeref="t", idref="\x00"),
        lambda: LearningOpportunityInstance(attachment_refs=["ok", "bad\x1f"]),
    ],
    ids=["group-id", "group-type-id", "grouping-idref", "attachment-ref"],
)
def test_reference_attributes_refuse_characters_xml_cannot_carry(build: object) -> None:
    # Caught when the model is built, not as an lxml ValueError in the middle of writing.
    assert callable(build)
    with pytest.raises(ValueError, match="cannot appear in XML"):
        build()


@pytest.mark.parametrize(
    "fragment",
    [
        "<foo><bar>x</bar></foo>",
        '<p:x xmlns:p="urn:p"><y a="1"/></p:x>',
        f'<ext xmlns="{NS}"><inner/></ext>',
        '<ext xmlns="urn:other"><inner/></ext>',
    ],
)
def test_extension_fragments_keep_their_namespaces(fragment: str) -> None:
    # Written inside the ELMO default namespace, an unqualified element must not fall into it.
    elmo = Elmo(
        generated_date=dt.datetime(2024, 5, 1, tzinfo=UTC),
        learner=Learner(given_names="Ada", family_name="Lovelace"),
        reports=[Report(issuer=issuer(), issue_date=dt.datetime(2024, 5, 1, tzinfo=UTC))],
        extension=[fragment],
    )
    written = etree.fromstring(emrex_elmo.to_xml(elmo)).find(f"{{{NS}}}extension")
    assert written is not None
    expected = etree.fromstring(fragment)
    assert [e.tag for e in written[0].iter()] == [e.tag for e in expected.iter()]
    assert etree.tostring(written[0], method="c14n") == etree.tostring(expected, method="c14n")


def test_text_and_attributes_are_escaped() -> None:
    tricky = "a & b < c > d \"e\" 'f'"
    elmo = Elmo(
        generated_date=dt.datetime(2024, 5, 1, tzinfo=UTC),
        learner=Learner(given_names=tricky, family_name="x", identifiers=[Identifier(type=tricky, value=tricky)]),
        reports=[
            Report(
                issuer=issuer(titles=[LocalizedToken(value=tricky, lang="en")]),
                issue_date=dt.datetime(2024, 5, 1, tzinfo=UTC),
            )
        ],
    )
    assert emrex_elmo.from_xml(emrex_elmo.to_xml(elmo)) == elmo


@pytest.mark.parametrize(
    "value", ["nb", "en", "local", "nationalIdentifier", "ø", "²", "x1", "", "a b", "a\tb", 'q"', "<&>", "a\r\nb"]
)
def test_attribute_values_are_escaped_as_lxml_escapes_them(value: str) -> None:
    # Letters and digits take a fast path that skips the escape loop: it must write what lxml writes.
    from emrex_elmo.writer import _attribute

    element = etree.Element("e", a=value)
    written = etree.tostring(element, encoding="unicode")
    assert written == f'<e a="{_attribute(value)}"/>'
