"""The answer is written from plain report documents, not model objects: these check that it is exactly what
the contract model would have written, and that the passed-only filter is emrex_elmo's rule."""

from datetime import UTC, date, datetime
from decimal import Decimal

import httpx

from emrex_elmo import Elmo, Learner, Report
from emrex_elmo.model import GradingScheme, LocalizedText
from emrex_elmo.vocabulary import passed_only
from ncp_contracts.sis import ResultsAnswer
from ncp_demo_sis import data as demo
from ncp_sis_adapter.domain.documents import ReportDocument
from ncp_sis_adapter.domain.mapping import build_issuer, report_document
from ncp_sis_adapter.domain.records import ResultRecord, Term

ISSUER = build_issuer(schac="uni.example.fi", titles={"fi": "Yliopisto", "en": "University"},
                      url="https://uni.example.fi/", country="FI", erasmus="SF UNI01")
SCHEMES = [GradingScheme(local_id=s, descriptions=[LocalizedText(value=s, lang="en")]) for s in ("0-5", "P-F", "X")]
TERM = Term((("en", "Autumn"), ("fi", "Syksy")), date(2024, 8, 1), date(2024, 12, 31))


def records() -> list[ResultRecord]:
    """A degree in progress with a failed module holding a passed course, and every optional field."""
    def rec(key, parent, type_, status="passed", scheme="0-5", credits="5", label="4", **more):
        return ResultRecord(key=key, code=key.upper(), titles=(("en", f"T {key}"), ("fi", f"O {key}")),
                            type=type_, parent_key=parent, status=status, grading_scheme=scheme,
                            result_label=label, credits=Decimal(credits) if credits else None, **more)
    return [
        rec("deg", None, "Degree Programme", "in-progress", credits="180", eqf_level="6", language="fi",
            start=date(2021, 9, 1), term=TERM, isced="0613"),
        rec("m1", "deg", "Module", "failed", "P-F"),
        rec("c1", "m1", "Course", date=date(2022, 1, 1), term=TERM, eqf_level="6"),
        rec("c2", "m1", "Course", "failed", "P-F", credits="2.50"),
        rec("m2", "deg", "Module", "failed", "X"),
        rec("c3", "m2", "Course", "in-progress", credits=None),
        rec("solo", None, "Course", "failed"),
        rec("c4", None, "Course", scheme="", credits="7.5", label=None),
    ]


def document() -> ReportDocument:
    doc, issues = report_document(ISSUER.model_dump(exclude_none=True), records(),
                                  [s.model_dump(exclude_none=True) for s in SCHEMES],
                                  datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert issues == []
    return doc


def test_document_is_what_the_model_dumps_byte_for_byte():
    from pydantic_core import to_json

    doc = document()
    model = doc.model()
    assert to_json(doc.data, exclude_none=True) == model.model_dump_json(exclude_none=True).encode()
    assert ReportDocument.of(model).model() == model
    ects = [los.specifies.credit() for los in model.learning_opportunity_specifications[0].has_part[0].has_part]
    assert ects == [Decimal("5"), Decimal("2.50")]  # ECTS on leaves, exact


def test_passed_only_is_emrex_elmo_rule_and_drops_unused_schemes():
    doc = document()
    expected = passed_only(Elmo(generated_date=datetime.now(UTC), learner=Learner(), reports=[doc.model()]))
    kept = doc.passed_only().model()
    assert kept.learning_opportunity_specifications == expected.reports[0].learning_opportunity_specifications
    # The failed module m1 stays as the ancestor of the passed course c1; only m2 (gone) used "X".
    assert [s.local_id for s in doc.model().grading_schemes] == ["0-5", "P-F", "X"]
    assert [s.local_id for s in kept.grading_schemes] == ["0-5", "P-F"]
    assert isinstance(kept, Report)


def test_a_report_without_passed_results_is_left_empty():
    doc, _ = report_document(ISSUER.model_dump(exclude_none=True), [
        ResultRecord(key="f", code="F", titles=(("en", "Failed"),), status="failed")], [], datetime.now(UTC))
    assert doc.has_results
    assert not doc.passed_only().has_results


async def test_every_demo_answer_reads_back_unchanged_through_the_contract_model(http: httpx.AsyncClient):
    answered = 0
    for learner in demo.demo_learners():
        for include in (True, False):
            response = await http.post("/v1/results/query", json={
                "identity": {"learner_id": learner.learner_id}, "options": {"include_not_passed": include}})
            assert response.status_code == 200
            body = response.content
            assert ResultsAnswer.model_validate_json(body).model_dump_json(exclude_none=True).encode() == body
            answered += 1
    assert answered == 2 * len(demo.demo_learners())


def test_a_record_with_every_field_is_what_the_model_dumps_byte_for_byte():
    from pydantic_core import to_json

    full = ResultRecord(key="k", code="K", titles=(("en", "Full"), ("fi", "Täysi")), type="Course",
                        status="passed", start=date(2024, 9, 1), date=date(2024, 12, 1), term=TERM,
                        grading_scheme="0-5", result_label="5", credits=Decimal("5.0"), eqf_level="7",
                        language="en", isced="0613")
    doc, issues = report_document(ISSUER.model_dump(exclude_none=True), [full, full._replace(key="k2")],
                                  [s.model_dump(exclude_none=True) for s in SCHEMES], datetime(2025, 1, 2, tzinfo=UTC))
    assert issues == []
    assert to_json(doc.data, exclude_none=True) == doc.model().model_dump_json(exclude_none=True).encode()
    first, second = doc.data["learning_opportunity_specifications"]
    # One term and one level written for both results.
    assert first["specifies"]["academic_term"] is second["specifies"]["academic_term"]
    assert first["specifies"]["levels"] is second["specifies"]["levels"]
