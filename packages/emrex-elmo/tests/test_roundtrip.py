"""Property-based round trips: any complete model -> to_xml -> XSD-valid -> from_xml -> the same model."""

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

import emrex_elmo
from emrex_elmo import (
    AcademicTerm,
    Attachment,
    Credit,
    Elmo,
    Group,
    Grouping,
    Groups,
    GroupType,
    Identifier,
    Issuer,
    Learner,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    Level,
    LocalizedText,
    LocalizedToken,
    Report,
    ResultCategory,
    ResultDistribution,
    ShortenedGrading,
)
from emrex_elmo.model import AttachmentType, GradingScheme, LosType

PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Latin, Greek, Cyrillic, Arabic, CJK, Devanagari, an astral-plane emoji and the XML specials.
_SCRIPTS = "aZ09 éøåß ΑβΓδ Жизнь عربي 漢字かな हिन्दी 😀 &<>\"'"
_ALPHABET = st.one_of(
    st.sampled_from(_SCRIPTS),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")),
)
LANGS = ["en", "fi", "nb", "sv", "de", "el", "uk", "ar", "zh-Hans", "ja", "hi"]
COUNTRIES = ["FI", "NO", "SE", "DK", "DE", "PL", "GR", "UA", "JP", "CN", "SA", "IS", "HR"]
LOS_TYPES = list(get_args(LosType))  # highest first, as the XSD's hierarchy rule ranks them
ATTACHMENT_TYPES = list(get_args(AttachmentType))
EXTENSIONS = [
    '<x:note xmlns:x="urn:example:ext">Ελληνικά &amp; more</x:note>',
    '<fs xmlns="urn:example:fs" code="A1"><part>漢字</part><part></part></fs>',
]
ADDRESS = (
    '<currentAddress xmlns="https://github.com/emrex-eu/elmo-schemas/tree/v1">'
    '<a:locality xmlns:a="https://github.com/erasmus-without-paper/ewp-specs-types-address/tree/stable-v1">'
    "Tromsø</a:locality></currentAddress>"
)


# Tokens: non-empty once whitespace collapses (the reader drops empty ones, as receivers do).
token = st.text(st.one_of(_ALPHABET, st.sampled_from("\t\n ")), min_size=1, max_size=24).map(
    lambda s: " ".join(s.replace("\t", " ").replace("\n", " ").split(" ")).strip()
).filter(bool)
# Multi-line plain text keeps its inner whitespace and line breaks.
text = st.text(st.one_of(_ALPHABET, st.sampled_from("\n\t ")), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)
lang = st.none() | st.sampled_from(LANGS)
decimals = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("100000"), places=3, allow_nan=False)
credit_values = st.sampled_from([Decimal("2.50"), Decimal(120), Decimal("0.5"), Decimal("7.5"), Decimal("1E+1")]) | (
    st.decimals(min_value=0, max_value=400, places=2, allow_nan=False)
)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
offsets = st.none() | st.integers(min_value=-14 * 4, max_value=14 * 4).map(
    lambda q: dt.timezone(dt.timedelta(minutes=15 * q))
)
datetimes = st.builds(
    lambda d, tz: d.replace(tzinfo=tz),
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2100, 1, 1)),
    offsets,
)


def tokens(min_size: int = 1, max_size: int = 3) -> st.SearchStrategy[list[LocalizedToken]]:
    return st.lists(st.builds(LocalizedToken, value=token, lang=lang), min_size=min_size, max_size=max_size)


def texts(max_size: int = 2) -> st.SearchStrategy[list[LocalizedText]]:
    return st.lists(st.builds(LocalizedText, value=text, lang=lang), max_size=max_size)


def identifiers(min_size: int = 0, max_size: int = 2) -> st.SearchStrategy[list[Identifier]]:
    return st.lists(st.builds(Identifier, type=token, value=token), min_size=min_size, max_size=max_size)


def opt(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.none() | strategy


learners = st.builds(
    Learner,
    citizenship=opt(st.sampled_from(COUNTRIES)),
    identifiers=identifiers(),
    given_names=st.just("") | token,
    family_name=token,
    bday=opt(dates),
    place_of_birth=opt(token),
    birth_name=opt(token),
    current_address=opt(st.just(ADDRESS)),
    gender=opt(st.sampled_from([0, 1, 2, 9])),
)
issuers = st.builds(
    Issuer,
    country=opt(st.sampled_from(COUNTRIES)),
    identifiers=identifiers(1, 3),
    titles=tokens(1, 3),
    url=st.sampled_from(["https://www.uio.no/", "https://helsinki.fi"]) | token,
)
credits = st.builds(
    Credit,
    scheme=st.sampled_from(["ects", "ECTS", "fi-op"]),
    level=opt(st.sampled_from(["Bachelor", "Master", "PhD"])),
    value=opt(credit_values),
)
instances = st.builds(
    LearningOpportunityInstance,
    identifiers=identifiers(),
    start=opt(dates),
    date=opt(dates),
    academic_term=opt(st.builds(AcademicTerm, titles=tokens(1, 2), start=dates, end=dates)),
    status=opt(st.sampled_from(["passed", "failed", "in-progress"])),
    grading_scheme_local_id=opt(token),
    result_label=opt(token),
    shortened_grading=opt(
        st.builds(ShortenedGrading, percentage_lower=decimals, percentage_equal=decimals, percentage_higher=decimals)
    ),
    result_distribution=opt(
        st.builds(
            ResultDistribution,
            categories=st.lists(
                st.builds(ResultCategory, label=token, count=st.integers(0, 10_000)), min_size=1, max_size=4
            ),
            descriptions=texts(1),
        )
    ),
    credits=st.lists(credits, max_size=2),
    levels=st.lists(
        st.builds(
            Level, type=token, description=opt(st.builds(LocalizedText, value=text, lang=lang)), value=opt(token)
        ),
        max_size=2,
    ),
    language_of_instruction=opt(st.sampled_from(["en", "fi", "nb", "de"])),
    engagement_hours=opt(decimals.map(abs)),
    attachment_refs=st.lists(token, max_size=2),
    grouping=opt(st.builds(Grouping, typeref=opt(token), idref=opt(token), value=st.just("") | text)),
    extension=st.lists(st.sampled_from(EXTENSIONS), max_size=2),
)


html = st.builds(LocalizedText, value=st.just("<p>Hei &amp; hå</p>"), lang=lang)


def los_tree(depth: int, min_rank: int) -> st.SearchStrategy[LearningOpportunitySpecification]:
    """A LOS whose children never have a higher type than it (the XSD's hierarchy rule)."""

    @st.composite
    def build(draw: st.DrawFn) -> LearningOpportunitySpecification:
        kind = draw(st.none() | st.sampled_from(LOS_TYPES[min_rank:]))
        rank = LOS_TYPES.index(kind) if kind else min_rank
        children = draw(st.lists(los_tree(depth - 1, rank), max_size=3)) if depth > 1 else []
        return LearningOpportunitySpecification(
            identifiers=draw(identifiers()),
            titles=draw(tokens(1, 3)),
            type=kind,
            subject_area=draw(opt(token)),
            isced_code=draw(opt(st.sampled_from(["0613", "0541", "0231"]))),
            url=draw(opt(token)),
            descriptions=draw(texts()),
            descriptions_html=draw(st.lists(html, max_size=1)),
            specifies=draw(instances),
            specifies_extension=draw(st.lists(st.sampled_from(EXTENSIONS), max_size=1)),
            has_part=children,
            extension=draw(st.lists(st.sampled_from(EXTENSIONS), max_size=1)),
        )

    return build()


attachments = st.builds(
    Attachment,
    identifiers=identifiers(),
    titles=tokens(0, 2),
    type=opt(st.sampled_from(ATTACHMENT_TYPES)),
    descriptions=texts(),
    contents=tokens(0, 2),
    extension=st.lists(st.sampled_from(EXTENSIONS), max_size=1),
)
reports = st.builds(
    Report,
    issuer=issuers,
    learning_opportunity_specifications=st.lists(los_tree(3, 0), max_size=3),
    issue_date=datetimes,
    grading_schemes=st.lists(st.builds(GradingScheme, local_id=token, descriptions=texts()), max_size=2),
    attachments=st.lists(attachments, max_size=1),
)
groups = st.builds(
    Groups,
    group_types=st.lists(
        st.builds(
            GroupType,
            id=opt(token),
            titles=tokens(1, 2),
            groups=st.lists(st.builds(Group, id=opt(token), sorting_key=opt(token), titles=tokens(1, 2)), max_size=3),
        ),
        max_size=2,
    ),
)
elmos = st.builds(
    Elmo,
    generated_date=datetimes,
    learner=learners,
    reports=st.lists(reports, min_size=1, max_size=2),
    attachments=st.lists(attachments, max_size=2),
    groups=opt(groups),
    extension=st.lists(st.sampled_from(EXTENSIONS), max_size=1),
)


@pytest.fixture(scope="module")
def reference_schema_17(reference: Path) -> etree.XMLSchema:
    schemas = reference / "elmo-schemas"
    return emrex_elmo.load_schema(schemas / "v1.7.0" / "schema.xsd", schemas / "deps")


@pytest.fixture(scope="module")
def reference_schema_20(reference: Path) -> etree.XMLSchema:
    schemas = reference / "elmo-schemas"
    return emrex_elmo.load_schema(schemas / "v2.0.0" / "schema.xsd", schemas / "deps")


@PROFILE
@given(elmo=elmos)
def test_any_model_round_trips_through_valid_elmo_1_7(elmo: Elmo, reference_schema_17: etree.XMLSchema) -> None:
    xml = emrex_elmo.to_xml(elmo)
    assert emrex_elmo.schema_issues(xml, "1.7.0") == []
    assert emrex_elmo.schema_issues(xml, schema=reference_schema_17) == []
    assert emrex_elmo.from_xml(xml) == elmo


def _with_los_identifiers(elmo: Elmo) -> Elmo:
    def fix(los: LearningOpportunitySpecification, n: list[int]) -> LearningOpportunitySpecification:
        n[0] += 1
        ids = los.identifiers or [Identifier(type="local", value=f"L{n[0]}")]
        return los.model_copy(update={"identifiers": ids, "has_part": [fix(c, n) for c in los.has_part]})

    counter = [0]
    return elmo.model_copy(
        update={
            "reports": [
                r.model_copy(
                    update={"learning_opportunity_specifications": [
                        fix(los, counter) for los in r.learning_opportunity_specifications
                    ]}
                )
                for r in elmo.reports
            ]
        }
    )


@PROFILE
@given(elmo=elmos)
def test_any_model_with_los_identifiers_is_valid_elmo_2_0(elmo: Elmo, reference_schema_20: etree.XMLSchema) -> None:
    elmo = _with_los_identifiers(elmo)
    xml = emrex_elmo.to_xml(elmo, version="2.0.0")
    assert emrex_elmo.schema_issues(xml, "2.0.0") == []
    assert emrex_elmo.schema_issues(xml, schema=reference_schema_20) == []
    back = emrex_elmo.from_xml(xml)
    # 2.0 has no credit level and always carries an alternativeName; everything else survives.
    assert back.learner.alternative_name is not None
    assert back.learner.bday == elmo.learner.bday
    assert [k for k, _, _ in back.iter_los()] == [k for k, _, _ in elmo.iter_los()]
    for (_, got, _), (_, want, _) in zip(back.iter_los(), elmo.iter_los(), strict=True):
        assert got.titles == want.titles
        assert [c.value for c in got.specifies.credits] == [c.value for c in want.specifies.credits]


def test_2_0_output_without_los_identifier_is_refused_with_a_path() -> None:
    elmo = Elmo(
        generated_date=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
        learner=Learner(given_names="Ada", family_name="Lovelace"),
        reports=[
            Report(
                issuer=Issuer(identifiers=[Identifier(type="schac", value="uio.no")],
                              titles=[LocalizedToken(value="UiO")], url="https://uio.no"),
                issue_date=dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
                learning_opportunity_specifications=[LearningOpportunitySpecification(titles=[LocalizedToken(value="X")])],
            )
        ],
    )
    with pytest.raises(emrex_elmo.ElmoSerializeError) as err:
        emrex_elmo.to_xml(elmo, version="2.0.0")
    assert err.value.path == "/elmo/report[1]/learningOpportunitySpecification[1]/identifier"
    assert emrex_elmo.schema_issues(emrex_elmo.to_xml(elmo)) == []


@settings(PROFILE, max_examples=30)
@given(elmo=elmos)
def test_to_element_and_to_xml_agree(elmo: Elmo) -> None:
    root = emrex_elmo.to_element(elmo)
    assert emrex_elmo.from_element(root) == elmo
    assert etree.tostring(root, encoding="UTF-8") in emrex_elmo.to_xml(elmo)
