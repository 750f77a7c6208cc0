"""XSD validation: which reference samples are valid against ELMO 1.7.0, and why the others are not."""

from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

import emrex_elmo
from emrex_elmo import ELMO_NS
from emrex_elmo.schema import BUNDLED

E = f"{{{ELMO_NS}}}"
Fix = Callable[[etree._Element], None]


def _trim_generated_date(root: etree._Element) -> None:
    node = root.find(f"{E}generatedDate")
    assert node is not None
    assert node.text
    node.text = node.text.strip()


def _fix_swedish_pilot_leftovers(root: etree._Element) -> None:
    for report in root.iterfind(f"{E}report"):
        for node in report.findall(f"{E}learner") + report.findall(f"{E}additionalLanguage"):
            report.remove(node)
        issue = report.find(f"{E}issueDate")
        assert issue is not None
        assert issue.text
        del issue.attrib["dtf"]
        issue.text = issue.text.strip() + "T00:00:00"


def _move_grading_schemes_after_issue_date(root: etree._Element) -> None:
    for report in root.iterfind(f"{E}report"):
        issue = report.find(f"{E}issueDate")
        assert issue is not None
        for scheme in reversed(report.findall(f"{E}gradingScheme")):
            issue.addnext(scheme)


# Per sample: valid against 1.7.0 as published?  A phrase of the first finding.  The repair that makes it valid
# (None where the README says more than a small repair is needed).
EXPECTED_1_7: dict[str, tuple[bool, str | None, Fix | None]] = {
    "fi-ncp__my_elmo.xml": (True, None, None),
    "dk-emrex__nor-emrex-1.0.xml": (False, "generatedDate", _trim_generated_date),
    "dk-emrex__swedish_1_elmo1.0.xml": (False, "learner", _fix_swedish_pilot_leftovers),
    "emrex-gateway__sampleElmo.xml": (False, "gradingScheme", _move_grading_schemes_after_issue_date),
    "dk-emrex__Example-elmo-Denmark.xml": (False, "issuer", None),  # no issuer title/url, credit level "-"
    "dk-emrex__elmo-tomcat-signed.xml": (False, "issuer", None),  # same, plus xsi:type on content
}


def test_the_validity_table_covers_every_reference_sample(samples: Path) -> None:
    assert sorted(p.name for p in samples.glob("*.xml")) == sorted(EXPECTED_1_7)


@pytest.mark.parametrize("name", sorted(EXPECTED_1_7))
def test_reference_sample_validity_against_1_7_0(samples: Path, name: str) -> None:
    valid, finding, _ = EXPECTED_1_7[name]
    issues = emrex_elmo.schema_issues((samples / name).read_bytes(), "1.7.0")
    assert (issues == []) is valid, issues
    if finding:
        assert finding in issues[0]
        assert issues[0].startswith("line ")


@pytest.mark.parametrize("name", sorted(n for n, (_, _, fix) in EXPECTED_1_7.items() if fix))
def test_reference_sample_is_valid_once_its_known_defect_is_repaired(samples: Path, name: str) -> None:
    _, _, fix = EXPECTED_1_7[name]
    assert fix is not None
    root = emrex_elmo.parse_xml((samples / name).read_bytes())
    fix(root)
    assert emrex_elmo.schema_issues(root) == []


def test_danish_samples_fail_for_the_documented_reasons(samples: Path) -> None:
    issues = emrex_elmo.schema_issues((samples / "dk-emrex__elmo-tomcat-signed.xml").read_bytes())
    text = "\n".join(issues)
    assert "issuer" in text
    assert "'-'" in text
    assert "content" in text


def test_no_reference_sample_is_valid_against_2_0_0(samples: Path) -> None:
    # 2.0.0 needs alternativeName; no real sample has it.
    for path in samples.glob("*.xml"):
        assert emrex_elmo.schema_issues(path.read_bytes(), "2.0.0"), path.name


def test_validate_raises_with_every_issue(samples: Path) -> None:
    with pytest.raises(emrex_elmo.ElmoSchemaError) as err:
        emrex_elmo.validate((samples / "dk-emrex__Example-elmo-Denmark.xml").read_bytes())
    assert err.value.version == "1.7.0"
    assert len(err.value.issues) > 3
    assert "more)" in str(err.value)
    assert err.value.code == "schema_invalid"
    emrex_elmo.validate((samples / "fi-ncp__my_elmo.xml").read_bytes())


def test_official_1_7_example_is_valid_against_bundled_and_reference_schema(reference: Path) -> None:
    schemas = reference / "elmo-schemas"
    example = (schemas / "v1.7.0" / "example.xml").read_bytes()
    ref_schema = emrex_elmo.load_schema(schemas / "v1.7.0" / "schema.xsd", schemas / "deps")
    assert emrex_elmo.schema_issues(example, schema=ref_schema) == []
    assert emrex_elmo.schema_issues(example, "1.7.0") == []


def test_unknown_schema_version_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ELMO schema version"):
        emrex_elmo.bundled_schema("1.6.0")  # type: ignore[arg-type]


def _bundled_files() -> list[Path]:
    return sorted(p.relative_to(BUNDLED) for p in BUNDLED.rglob("*.xsd"))


def test_bundle_has_both_versions_and_their_imports() -> None:
    names = {str(p) for p in _bundled_files()}
    assert {"v1.7.0/schema.xsd", "v2.0.0/schema.xsd", "deps/xml.xsd"} <= names


@pytest.mark.parametrize("relative", _bundled_files(), ids=str)
def test_bundled_xsd_is_byte_identical_to_the_reference_copy(reference: Path, relative: Path) -> None:
    assert (BUNDLED / relative).read_bytes() == (reference / "elmo-schemas" / relative).read_bytes()


def test_schema_loading_never_touches_the_network(tmp_path: Path) -> None:
    # An import that is neither bundled nor mapped must fail to load, not be fetched.
    xsd = tmp_path / "schema.xsd"
    xsd.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">'
        '<xs:import namespace="urn:other" schemaLocation="http://127.0.0.1:9/other.xsd"/>'
        '<xs:element name="a" type="xs:string"/></xs:schema>'
    )
    try:
        schema = emrex_elmo.load_schema(xsd, tmp_path)
    except etree.XMLSchemaParseError:
        return
    # libxml2 may skip an unloadable import with a warning; the schema then simply lacks it.
    assert schema.validate(etree.fromstring(b'<a xmlns="urn:t">x</a>'))  # noqa: TID251
