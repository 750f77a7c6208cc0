"""Choosing what to send: the report restricted to the learning opportunities a student picked.

Rules: a chosen node brings all its descendants (a degree brings its modules and courses); a chosen
node whose parent was not chosen keeps its ancestors as the structure it sits in, so receivers still
see "course X of degree Y"; not-passed results (failed, in progress) are dropped unless asked for,
except where a kept node needs them as its ancestor. Reports left empty are dropped.
"""

from collections.abc import Collection

from .model import Elmo, LearningOpportunitySpecification, Report


def _keep(
    los: LearningOpportunitySpecification,
    key: str,
    chosen: Collection[str],
    include_not_passed: bool,
    inherited: bool,
) -> LearningOpportunitySpecification | None:
    selected = inherited or key in chosen
    children = [
        kept
        for i, child in enumerate(los.has_part)
        if (kept := _keep(child, f"{key}.{i}", chosen, include_not_passed, selected)) is not None
    ]
    own_ok = selected and (include_not_passed or los.specifies.passed)
    if not own_ok and not children:
        return None
    return los.model_copy(update={"has_part": children})


def select(
    elmo: Elmo, chosen: Collection[str], *, include_not_passed: bool = False
) -> Elmo:
    """The document restricted to `chosen` keys (from `Elmo.iter_los`), with all other data kept."""
    reports: list[Report] = []
    for r, report in enumerate(elmo.reports):
        kept = [
            los_kept
            for i, los in enumerate(report.learning_opportunity_specifications)
            if (los_kept := _keep(los, f"r{r}.{i}", chosen, include_not_passed, False)) is not None
        ]
        if kept:
            reports.append(report.model_copy(update={"learning_opportunity_specifications": kept}))
    return elmo.model_copy(update={"reports": reports})


def all_keys(elmo: Elmo) -> list[str]:
    return [key for key, _, _ in elmo.iter_los()]
