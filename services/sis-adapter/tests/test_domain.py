from datetime import UTC, date, datetime
from decimal import Decimal

from emrex_elmo import Elmo, Learner, to_xml, validate
from ncp_contracts.sis import LearnerIdentity
from ncp_sis_adapter.domain.breaker import CircuitBreaker
from ncp_sis_adapter.domain.identity import identity_problems
from ncp_sis_adapter.domain.jsonpath import MISSING, resolve
from ncp_sis_adapter.domain.mapping import build_issuer, build_report, build_tree
from ncp_sis_adapter.domain.matching import first_match, lookup_keys
from ncp_sis_adapter.domain.records import ResultRecord

ISSUER = build_issuer(schac="uni.example.fi", titles={"fi": "Yliopisto", "en": "University"},
                      url="https://uni.example.fi/", country="FI", erasmus="SF UNI01", pic="999999999")


def rec(key, parent=None, type_="Course", credits=None, status="passed"):
    return ResultRecord(key=key, code=key.upper(), titles=(("en", f"Title {key}"),), type=type_,
                        parent_key=parent, credits=Decimal(credits) if credits else None, status=status)


def test_lookup_keys_follow_the_chain_and_skip_missing_kinds():
    identity = LearnerIdentity(learner_id="demo-learner-1", subject="demo-learner-1", national_id=" 010101-123N ")
    keys = lookup_keys(identity, ["esi", "national_id", "learner_id", "subject"])
    assert keys == [("national_id", "010101-123N"), ("learner_id", "demo-learner-1"),
                    ("subject", "demo-learner-1")]


async def test_first_match_stops_at_the_first_hit_and_retries_by_learner_id():
    asked = []

    async def register(kind, value):
        asked.append(kind)
        return {"learner_id": "found"}.get(kind)

    keys = [("national_id", "x"), ("learner_id", "y"), ("esi", "z")]
    assert await first_match(keys, register) == ("learner_id", "found")
    assert asked == ["national_id", "learner_id"]  # esi never asked


async def test_first_match_none_when_no_kind_matches():
    async def nothing(kind, value):
        return None

    assert await first_match([("national_id", "x")], nothing) is None


def test_tree_nests_three_levels_and_puts_ects_on_leaves_only():
    roots, issues = build_tree([
        rec("deg", type_="Degree Programme", credits="180"),
        rec("mod", "deg", "Module", credits="60"),
        rec("sub", "mod", "Module"),
        rec("c1", "sub", credits="5"),
        rec("c2", "mod", credits="2.5"),
        rec("solo", credits="3"),
    ])
    assert not issues
    assert [r.identifier("local") for r in roots] == ["DEG", "SOLO"]
    degree = roots[0]
    assert degree.specifies.credits == []  # ELMO XSD: ECTS on the leaves, not on their ancestors
    assert degree.has_part[0].has_part[0].has_part[0].specifies.credit() == Decimal(5)
    assert degree.has_part[0].has_part[1].specifies.credit() == Decimal("2.5")


def test_tree_reports_bad_structure_instead_of_failing():
    roots, issues = build_tree([
        rec("c1", "missing"),
        rec("mod", type_="Module"),
        rec("deg", "mod", "Degree Programme"),
        rec("mod", type_="Module"),
        rec("a", "b"), rec("b", "a"),
    ])
    reasons = sorted(i.field for i in issues)
    assert reasons == ["key", "parent_key", "parent_key", "parent_key", "type"]
    assert {r.identifier("local") for r in roots} == {"C1", "MOD", "DEG"}


def test_report_is_xsd_valid_and_lists_only_used_grading_schemes():
    from emrex_elmo.model import GradingScheme, LocalizedText

    schemes = [GradingScheme(local_id="A-F", descriptions=[LocalizedText(value="A-F", lang="en")]),
               GradingScheme(local_id="unused", descriptions=[])]
    record = ResultRecord(key="k", code="C", titles=(("fi", "Kurssi"), ("en", "Course")), grading_scheme="A-F",
                          result_label="B", credits=Decimal("7.5"), eqf_level="6", language="fi",
                          date=date(2024, 1, 2))
    report, _ = build_report(ISSUER, [record], schemes, datetime(2025, 1, 1, tzinfo=UTC))
    assert [s.local_id for s in report.grading_schemes] == ["A-F"]
    xml = to_xml(Elmo(generated_date=report.issue_date, learner=Learner(given_names="A", family_name="B"),
                      reports=[report]))
    validate(xml)
    assert b'<identifier type="schac">uni.example.fi</identifier>' in xml
    assert b"<value>7.5</value>" in xml


def test_breaker_opens_after_threshold_then_allows_one_trial():
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=10, clock=lambda: now[0])
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    now[0] = 10.0
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    now[0] = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow()


def test_jsonpath_subset():
    doc = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert resolve(doc, "$.a.b[1].c") == 2
    assert resolve(doc, "a.b[0].c") == 1
    assert resolve(doc, "a.x") is MISSING
    assert resolve(doc, "a.b[5]") is MISSING
    assert resolve(doc, "a.b.c") is MISSING


def test_identity_problems():
    assert identity_problems(LearnerIdentity(learner_id="demo-learner-1")) == []
    assert identity_problems(LearnerIdentity(given_names="Anna"))  # no identifier at all
    assert identity_problems(LearnerIdentity(national_id="x" * 300))
    assert identity_problems(LearnerIdentity(learner_id="bad\x00id"))
    assert identity_problems(LearnerIdentity(esi="%"))
    assert identity_problems(LearnerIdentity(esi="   "))


def test_fast_construction_equals_validated_models_and_rejects_non_xml_text():
    from emrex_elmo import Report

    records = [
        ResultRecord(key=" k1 ", code="C\t1", titles=(("en", "  Spaced   title "), ("fi", "Otsikko")),
                     credits=Decimal("2.5"), eqf_level="6", language="fi", result_label="4"),
        ResultRecord(key="k2", code="C2", titles=(("en", "Bad \x01 title"),)),
        ResultRecord(key="k3", code="C3", titles=(("en", "   "),)),
    ]
    report, issues = build_report(ISSUER, records, [], datetime(2025, 1, 1, tzinfo=UTC))
    assert [(i.field, i.reason.split(";")[0]) for i in issues] == [
        ("titles", "contains characters XML cannot carry"), ("titles", "blank")]
    again = Report.model_validate(report.model_dump())
    assert again == report
    los = report.learning_opportunity_specifications[0]
    assert los.titles[0].value == "Spaced title"
    assert los.identifier("local") == "C 1"


def test_quick_text_check_takes_only_plain_records_and_leaves_the_rest_to_the_exact_checks():
    from ncp_sis_adapter.domain.mapping import _clean
    from ncp_sis_adapter.domain.records import RecordIssue, Term

    def cleaned(title: str, term_title: str = "Autumn") -> ResultRecord | RecordIssue:
        term = Term((("en", term_title),), date(2024, 8, 1), date(2024, 12, 31))
        return _clean(ResultRecord(key="k", code="C", titles=(("en", title),), term=term))

    plain = ResultRecord(key="k", code="C", titles=(("en", "Plain title ä"),))
    assert _clean(plain) is plain
    # The quick check's separator, or a non-ASCII character it does not take, inside a plain text: unchanged.
    for title in ("A\u241e B", "A \u241e", "\u241e", "Non\u00a0breaking"):
        result = cleaned(title)
        assert isinstance(result, ResultRecord)
        assert result.titles == (("en", title),)
    for title, expected in ((" Lead", "Lead"), ("Trail ", "Trail"), ("Two  spaces", "Two spaces"),
                            ("Tab\there", "Tab here"), ("Line\nbreak", "Line break")):
        result = cleaned(title)
        assert isinstance(result, ResultRecord), title
        assert result.titles == (("en", expected),)
    result = cleaned("Course", term_title="Autumn  term ")
    assert isinstance(result, ResultRecord)
    assert result.term is not None
    assert result.term.titles == (("en", "Autumn term"),)
    for title in ("", "  "):
        assert cleaned(title) == RecordIssue("titles", "blank; record skipped")
    assert cleaned("Bad \x01") == RecordIssue("titles", "contains characters XML cannot carry; record skipped")
