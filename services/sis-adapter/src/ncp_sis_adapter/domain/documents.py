"""A report as the answer's JSON carries it: plain dicts, lists and scalars, without the ELMO model objects.

A 500-result report is about 5,500 model objects; building them, then serialising them, was most of the
service's CPU per query. The SQL and REST records are written straight into this shape (`mapping`), and the
answer is serialised from it in one pass. Its shape is exactly `Report.model_dump(exclude_none=True)`:
`model()` validates it into the contract model, and the tests check that this changes nothing.
"""

from dataclasses import dataclass
from typing import Any

from emrex_elmo import Report

# One LOS as a plain dict (fields of emrex_elmo.LearningOpportunitySpecification, None values left out).
LosDocument = dict[str, Any]


def _passed_parts(los: LosDocument) -> LosDocument | None:
    # emrex_elmo.select with every key chosen and include_not_passed=False: a not-passed node stays only as
    # the ancestor of a passed one. A missing status means passed (ELMO XSD).
    parts = [kept for part in los["has_part"] if (kept := _passed_parts(part)) is not None]
    if los["specifies"].get("status", "passed") != "passed" and not parts:
        return None
    return {**los, "has_part": parts}


def _walk(items: list[LosDocument]) -> Any:
    for los in items:
        yield los
        yield from _walk(los["has_part"])


@dataclass(frozen=True)
class ReportDocument:
    """One institution's report. The dicts may be shared between answers: never mutate them."""

    data: dict[str, Any]

    @classmethod
    def of(cls, report: Report) -> "ReportDocument":
        return cls(report.model_dump(exclude_none=True))

    def model(self) -> Report:
        """The report as the contract model, validated (what the gateway decodes)."""
        return Report.model_validate(self.data)

    @property
    def has_results(self) -> bool:
        return bool(self.data["learning_opportunity_specifications"])

    def passed_only(self) -> "ReportDocument":
        """Without not-passed results, and without the grading schemes no remaining result uses."""
        kept = [k for los in self.data["learning_opportunity_specifications"] if (k := _passed_parts(los))]
        used = {los["specifies"].get("grading_scheme_local_id") for los in _walk(kept)}
        schemes = [s for s in self.data["grading_schemes"] if s["local_id"] in used]
        return ReportDocument({**self.data, "learning_opportunity_specifications": kept, "grading_schemes": schemes})
