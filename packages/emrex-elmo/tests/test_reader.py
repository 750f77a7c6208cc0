"""Reading real ELMO documents: every reference sample parses into the model, with the expected content."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

import emrex_elmo

# Every file under shared/reference/samples that holds ELMO XML, with facts from its README row.
SAMPLE_FACTS = {
    "dk-emrex__Example-elmo-Denmark.xml": ("DK", None),
    "dk-emrex__elmo-tomcat-signed.xml": ("DK", "Hansen"),
    "dk-emrex__nor-emrex-1.0.xml": (None, None),
    "dk-emrex__swedish_1_elmo1.0.xml": (None, None),
    "emrex-gateway__sampleElmo.xml": ("NO", None),
    "fi-ncp__my_elmo.xml": ("FI", "Testaaja"),
}


def test_the_sample_table_covers_every_reference_sample(samples: Path) -> None:
    assert sorted(p.name for p in samples.glob("*.xml")) == sorted(SAMPLE_FACTS)


@pytest.mark.parametrize("name", sorted(SAMPLE_FACTS))
def test_every_reference_sample_parses(samples: Path, name: str) -> None:
    country, family_name = SAMPLE_FACTS[name]
    elmo = emrex_elmo.from_xml((samples / name).read_bytes())
    assert elmo.reports
    assert elmo.learner.family_name or elmo.learner.given_names
    assert elmo.iter_los(), "every sample carries results"
    if country:
        assert elmo.reports[0].issuer.country == country
    if family_name:
        assert elmo.learner.family_name == family_name


@pytest.mark.parametrize("name", sorted(SAMPLE_FACTS))
def test_every_reference_sample_survives_a_second_round_trip(samples: Path, name: str) -> None:
    # Real documents lack what 1.7.0 requires (issuer url...), so compare model -> XML -> model after
    # filling only those gaps.
    elmo = emrex_elmo.from_xml((samples / name).read_bytes())
    reports = []
    for report in elmo.reports:
        issuer = report.issuer.model_copy(update={
            "titles": report.issuer.titles or [emrex_elmo.LocalizedToken(value="Unknown")],
            "url": report.issuer.url or "https://example.invalid/",
        })
        reports.append(report.model_copy(update={"issuer": issuer}))
    elmo = elmo.model_copy(update={"reports": reports})
    if name.startswith("dk-emrex__") and name != "dk-emrex__nor-emrex-1.0.xml" and "swedish" not in name:
        # The DK credit level "-" is not Bachelor/Master/PhD: refused with the path of the element.
        with pytest.raises(emrex_elmo.ElmoSerializeError, match="credit level") as err:
            emrex_elmo.to_xml(elmo)
        assert err.value.path is not None
        assert err.value.path.endswith("/credit[1]/level")
        return
    assert emrex_elmo.from_xml(emrex_elmo.to_xml(elmo)) == elmo


def test_danish_sample_content(samples: Path) -> None:
    elmo = emrex_elmo.from_xml((samples / "dk-emrex__elmo-tomcat-signed.xml").read_bytes())
    assert elmo.learner.bday == dt.date(1980, 12, 9)
    assert elmo.learner.identifier("nationalIdentifier") == "091280-1128"
    first = elmo.reports[0].learning_opportunity_specifications[0]
    assert first.titles[0].value == "Kaffens Historie"
    assert first.type == "Course"
    loi = first.specifies
    assert loi.result_label == "10"
    assert loi.start == dt.date(2009, 9, 25)  # "2009-09-25+02:00": the time zone is dropped
    assert loi.academic_term is not None
    assert loi.academic_term.end == dt.date(2010, 8, 31)
    # FI/DK write "ECTS"; the model normalizes to the XSD's lowercase value; "10.000" keeps its value.
    assert loi.credits[0].scheme == "ects"
    assert loi.credit("ECTS") == Decimal(10)
    assert loi.credits[0].level == "-"
    assert loi.passed


def test_swedish_sample_has_a_degree_with_courses(samples: Path) -> None:
    elmo = emrex_elmo.from_xml((samples / "dk-emrex__swedish_1_elmo1.0.xml").read_bytes())
    depths = {depth for _, _, depth in elmo.iter_los()}
    assert depths >= {0, 1}
    # issueDate is a bare date there; it reads as midnight.
    assert elmo.reports[0].issue_date == dt.datetime(2015, 12, 17)


def test_norwegian_gateway_sample_has_distribution_grading_and_groups(samples: Path) -> None:
    elmo = emrex_elmo.from_xml((samples / "emrex-gateway__sampleElmo.xml").read_bytes())
    report = elmo.reports[0]
    assert report.grading_schemes
    assert report.grading_schemes[0].local_id == "30"
    lois = [los.specifies for _, los, _ in elmo.iter_los()]
    assert any(loi.result_distribution for loi in lois)
    assert any(loi.status == "passed" for loi in lois)
    assert any(loi.levels for loi in lois)
    assert elmo.groups is not None


def test_norwegian_fs_sample_trims_padded_generated_date(samples: Path) -> None:
    elmo = emrex_elmo.from_xml((samples / "dk-emrex__nor-emrex-1.0.xml").read_bytes())
    assert elmo.generated_date == dt.datetime.fromisoformat("2016-01-08T09:58:18.908+01:00")


@pytest.mark.parametrize("version", ["v1.1.0", "v1.4.0", "v1.5.0", "v1.6.0", "v1.7.0", "v2.0.0"])
def test_official_examples_parse(reference: Path, version: str) -> None:
    elmo = emrex_elmo.from_xml((reference / "elmo-schemas" / version / "example.xml").read_bytes())
    assert elmo.reports
    assert elmo.iter_los()


def test_official_1_7_example_round_trips_and_stays_valid(reference: Path) -> None:
    source = (reference / "elmo-schemas" / "v1.7.0" / "example.xml").read_bytes()
    assert emrex_elmo.schema_issues(source) == []
    elmo = emrex_elmo.from_xml(source)
    # The example carries a diploma supplement, attachments, groups, extensions and a signature.
    assert any(los.specifies.diploma_supplement for _, los, _ in elmo.iter_los())
    xml = emrex_elmo.to_xml(elmo)
    assert emrex_elmo.schema_issues(xml) == []
    assert emrex_elmo.from_xml(xml) == elmo


PILOT_READABLE = {
    "emp-mockup__elmo_example.xml": ("TS-Svendsen", dt.date(1992, 2, 2)),
    "emrex-client__elmotest.xml": ("Keränen", dt.date(1966, 7, 18)),  # bday dtf="dd-MM-yyyy"
    "fi-smp__Example-elmo-Finland.xml": ("Keränen", dt.date(1966, 7, 18)),
    "fi-smp__Example-elmo-Norway.xml": ("TS-Svendsen", dt.date(1992, 2, 2)),
    "fi-smp__Example-elmo-complicated.xml": ("Viivainen", dt.date(1996, 8, 2)),
}


@pytest.mark.parametrize("name", sorted(PILOT_READABLE))
def test_pilot_namespace_documents_are_read(reference: Path, name: str) -> None:
    # 2015 pilot documents: no generatedDate (the newest issueDate stands in), the learner inside the report,
    # dates with a Java `dtf` pattern or as free text ("2012 Syksy", read as no date), credits on the LOS.
    family_name, bday = PILOT_READABLE[name]
    elmo = emrex_elmo.from_xml((reference / "samples-smp" / name).read_bytes())
    assert elmo.learner.family_name == family_name
    assert elmo.learner.bday == bday
    assert elmo.generated_date == max(r.issue_date for r in elmo.reports)
    assert any(los.specifies.credits for _, los, _ in elmo.iter_los())


def test_pilot_document_without_any_date_is_refused_clearly(reference: Path) -> None:
    with pytest.raises(emrex_elmo.ElmoParseError, match="neither <generatedDate> nor <issueDate>") as err:
        emrex_elmo.from_xml((reference / "samples-smp" / "emrex-client__elmotest-short-orig.xml").read_bytes())
    assert err.value.path == "/elmo"


def test_finnish_2015_signed_response_reads_with_grades_and_credits(reference: Path) -> None:
    wire = (reference / "samples-smp" / "fi-smp__elmo_vastaus_base64_gzipped.txt").read_text()
    elmo = emrex_elmo.from_xml(emrex_elmo.transport.decode(wire))
    assert elmo.learner.given_names == "Kaisa"
    courses = [los for _, los, depth in elmo.iter_los() if depth > 0]
    assert courses
    assert all(los.specifies.result_label for los in courses if los.specifies.credits)


def test_current_namespace_keeps_strict_dates(samples: Path) -> None:
    # The pilot leniency never applies to ELMO 1.x/2.0: a free-text date there is an error with its path.
    data = (samples / "fi-ncp__my_elmo.xml").read_bytes().replace(b"2014-11-28+02:00", b"2014 Syksy")
    with pytest.raises(emrex_elmo.ElmoParseError, match="not a valid date"):
        emrex_elmo.from_xml(data)


@pytest.mark.parametrize(
    ("mutation", "path_part"),
    [
        (("<issueDate>2014-11-28T00:00:00.000+02:00</issueDate>", ""), "/elmo/report"),
        (("<value>5</value>", "<value>five</value>"), "/credit/value"),
        (("<status>passed</status>", "<status>done</status>"), "/learningOpportunityInstance/status"),
        (("<date>2014-11-28+02:00</date>", "<date>28.11.2014</date>"), "/learningOpportunityInstance/date"),
    ],
)
def test_unreadable_elements_are_named_in_the_error(samples: Path, mutation: tuple[str, str], path_part: str) -> None:
    data = (samples / "fi-ncp__my_elmo.xml").read_text(encoding="utf-8")
    assert mutation[0] in data
    with pytest.raises(emrex_elmo.ElmoParseError) as err:
        emrex_elmo.from_xml(data.replace(*mutation).encode())
    assert err.value.path is not None
    assert path_part in err.value.path
    assert err.value.code == "elmo_invalid"


def test_reading_leaves_the_garbage_collector_as_it_found_it(samples: Path) -> None:
    import gc

    data = (samples / "fi-ncp__my_elmo.xml").read_bytes()
    assert gc.isenabled()
    emrex_elmo.from_xml(data)
    assert gc.isenabled()
    with pytest.raises(emrex_elmo.ElmoParseError):
        emrex_elmo.from_xml(data.replace(b"<status>passed</status>", b"<status>bad</status>"))
    assert gc.isenabled()
    gc.disable()
    try:
        emrex_elmo.from_xml(data)
        assert not gc.isenabled()
    finally:
        gc.enable()
