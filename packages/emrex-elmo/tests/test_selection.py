"""Selection: the report restricted to what the student chose, with the structure kept."""

import datetime as dt
from pathlib import Path

import pytest

import emrex_elmo
from emrex_elmo import (
    Elmo,
    Learner,
    LearningOpportunitySpecification,
    Report,
    all_keys,
    select,
)
from emrex_elmo.model import LoiStatus
from ncp_testkit import course, institution

WHEN = dt.datetime(2025, 1, 15, 10, 0, tzinfo=dt.UTC)


def los(
    title: str, kind: str, *parts: LearningOpportunitySpecification, status: LoiStatus | None = "passed"
) -> LearningOpportunitySpecification:
    return course(title, *parts, kind=kind, status=status, code=title, lang=None, date=None)


def report(*items: LearningOpportunitySpecification, schac: str = "uio.no") -> Report:
    return Report(issuer=institution(schac, lang=None, url=f"https://{schac}/"), issue_date=WHEN,
                  learning_opportunity_specifications=list(items))


@pytest.fixture
def elmo() -> Elmo:
    # r0.0 Bachelor (passed)
    #   r0.0.0 Module A (passed): r0.0.0.0 Course A1 (passed), r0.0.0.1 Course A2 (failed)
    #   r0.0.1 Module B (in progress): r0.0.1.0 Course B1 (passed)
    # r0.1 Course X (failed)
    # r1.0 Course Y (passed), at another institution
    return Elmo(
        generated_date=WHEN,
        learner=Learner(given_names="Kari", family_name="Nordmann"),
        reports=[
            report(
                los(
                    "Bachelor", "Degree Programme",
                    los("Module A", "Module", los("Course A1", "Course"), los("Course A2", "Course", status="failed")),
                    los("Module B", "Module", los("Course B1", "Course"), status="in-progress"),
                ),
                los("Course X", "Course", status="failed"),
            ),
            report(los("Course Y", "Course"), schac="ntnu.no"),
        ],
    )


def titles(elmo: Elmo) -> list[tuple[str, str, int]]:
    return [(key, item.titles[0].value, depth) for key, item, depth in elmo.iter_los()]


def test_keys_follow_document_order(elmo: Elmo) -> None:
    assert all_keys(elmo) == [
        "r0.0", "r0.0.0", "r0.0.0.0", "r0.0.0.1", "r0.0.1", "r0.0.1.0", "r0.1", "r1.0",
    ]


def test_a_chosen_degree_brings_its_passed_descendants(elmo: Elmo) -> None:
    chosen = select(elmo, {"r0.0"})
    assert [t for _, t, _ in titles(chosen)] == ["Bachelor", "Module A", "Course A1", "Module B", "Course B1"]
    assert len(chosen.reports) == 1


def test_not_passed_results_come_along_when_asked_for(elmo: Elmo) -> None:
    chosen = select(elmo, {"r0.0"}, include_not_passed=True)
    assert [t for _, t, _ in titles(chosen)] == [
        "Bachelor", "Module A", "Course A1", "Course A2", "Module B", "Course B1",
    ]


def test_a_chosen_child_keeps_its_ancestors_as_structure(elmo: Elmo) -> None:
    chosen = select(elmo, {"r0.0.0.0"})
    assert titles(chosen) == [("r0.0", "Bachelor", 0), ("r0.0.0", "Module A", 1), ("r0.0.0.0", "Course A1", 2)]


def test_a_not_passed_ancestor_stays_as_structure_for_a_chosen_passed_child(elmo: Elmo) -> None:
    chosen = select(elmo, {"r0.0.1.0"})
    assert [t for _, t, _ in titles(chosen)] == ["Bachelor", "Module B", "Course B1"]
    module_b = chosen.reports[0].learning_opportunity_specifications[0].has_part[0]
    assert module_b.specifies.status == "in-progress"


def test_chosen_not_passed_results_are_dropped_by_default(elmo: Elmo) -> None:
    assert select(elmo, {"r0.1", "r0.0.0.1"}).reports == []
    kept = select(elmo, {"r0.1", "r0.0.0.1"}, include_not_passed=True)
    assert [t for _, t, _ in titles(kept)] == ["Bachelor", "Module A", "Course A2", "Course X"]


def test_reports_left_empty_are_dropped(elmo: Elmo) -> None:
    chosen = select(elmo, {"r1.0"})
    assert [r.issuer.identifiers[0].value for r in chosen.reports] == ["ntnu.no"]
    assert select(elmo, set()).reports == []


def test_selection_across_institutions_keeps_one_report_each(elmo: Elmo) -> None:
    chosen = select(elmo, {"r0.0.0", "r1.0"})
    assert [r.issuer.identifiers[0].value for r in chosen.reports] == ["uio.no", "ntnu.no"]
    assert [t for _, t, _ in titles(chosen)] == ["Bachelor", "Module A", "Course A1", "Course Y"]


def test_unknown_keys_select_nothing(elmo: Elmo) -> None:
    assert select(elmo, {"r9.9", "nonsense"}).reports == []


def test_selection_keeps_everything_else_and_does_not_change_the_input(elmo: Elmo) -> None:
    before = elmo.model_copy(deep=True)
    chosen = select(elmo, {"r0.0.0.0"})
    assert elmo == before
    assert chosen.learner == elmo.learner
    assert chosen.generated_date == elmo.generated_date
    assert chosen.reports[0].issuer == elmo.reports[0].issuer


def test_selecting_everything_with_not_passed_is_the_identity(elmo: Elmo) -> None:
    assert select(elmo, all_keys(elmo), include_not_passed=True) == elmo


def test_a_selection_is_still_valid_elmo(elmo: Elmo) -> None:
    assert emrex_elmo.schema_issues(emrex_elmo.to_xml(select(elmo, {"r0.0.1.0", "r1.0"}))) == []


def test_selection_on_a_real_degree_transcript(samples: Path) -> None:
    elmo = emrex_elmo.from_xml((samples / "dk-emrex__swedish_1_elmo1.0.xml").read_bytes())
    deepest = max(elmo.iter_los(), key=lambda item: item[2])
    chosen = select(elmo, {deepest[0]}, include_not_passed=True)
    # The chosen course and exactly its chain of ancestors (keys are positions, so they renumber).
    by_key = {key: item for key, item, _ in elmo.iter_los()}
    parts = deepest[0].split(".")
    chain = [by_key[".".join(parts[: n + 2])] for n in range(deepest[2] + 1)]
    assert [item.titles for _, item, _ in chosen.iter_los()] == [item.titles for item in chain]
    assert len(chosen.reports) == 1
