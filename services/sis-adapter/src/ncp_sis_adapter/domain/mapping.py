"""Flat SIS result records to the ELMO model: the LOS tree, ECTS on leaves, one report per institution."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from emrex_elmo import (
    AcademicTerm,
    Credit,
    Identifier,
    Issuer,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    Level,
    LocalizedToken,
    Report,
)
from emrex_elmo.model import LOS_TYPE_RANK, GradingScheme

from .records import RecordIssue, ResultRecord


def _titles(pairs: Iterable[tuple[str, str]]) -> list[LocalizedToken]:
    return [LocalizedToken(value=value, lang=lang) for lang, value in pairs]


def _los(record: ResultRecord, leaf: bool) -> LearningOpportunitySpecification:
    # ELMO XSD: "If this tree node contains ECTS credits earned, then all of its descendants and
    # ancestors MUST NOT", so credits are given on the leaves only.
    credits = (
        [Credit(scheme="ects", value=record.credits)]
        if leaf and record.credits is not None else []
    )
    term = (
        AcademicTerm(titles=_titles(record.term.titles), start=record.term.start, end=record.term.end)
        if record.term is not None else None
    )
    loi = LearningOpportunityInstance(
        identifiers=[Identifier(type="local", value=record.key)],
        start=record.start,
        date=record.date,
        academic_term=term,
        status=record.status,
        grading_scheme_local_id=record.grading_scheme,
        result_label=record.result_label,
        credits=credits,
        levels=[Level(type="EQF", value=record.eqf_level)] if record.eqf_level else [],
        language_of_instruction=record.language,
    )
    return LearningOpportunitySpecification(
        identifiers=[Identifier(type="local", value=record.code)],
        titles=_titles(record.titles),
        type=record.type,
        isced_code=record.isced,
        specifies=loi,
    )


def build_tree(
    records: Sequence[ResultRecord],
) -> tuple[list[LearningOpportunitySpecification], list[RecordIssue]]:
    """Nest records by parent key, in input order; records that break the tree go to the top level."""
    issues: list[RecordIssue] = []
    by_key: dict[str, ResultRecord] = {}
    for record in records:
        if record.key in by_key:
            issues.append(RecordIssue("key", "duplicate record key; record skipped"))
            continue
        by_key[record.key] = record
    children: dict[str | None, list[ResultRecord]] = {}
    for record in by_key.values():
        parent = record.parent_key
        if parent is not None and parent not in by_key:
            issues.append(RecordIssue("parent_key", "parent not found; record placed at the top level"))
            parent = None
        elif parent is not None and LOS_TYPE_RANK[record.type] < LOS_TYPE_RANK[by_key[parent].type]:
            # ELMO XSD: a child must not have a higher type than its parent.
            issues.append(RecordIssue("type", "higher type than its parent; record placed at the top level"))
            parent = None
        children.setdefault(parent, []).append(record)

    placed: set[str] = set()

    def build(record: ResultRecord, path: frozenset[str]) -> LearningOpportunitySpecification:
        placed.add(record.key)
        kids = [build(c, path | {c.key}) for c in children.get(record.key, []) if c.key not in path]
        los = _los(record, leaf=not kids)
        if kids:
            los = los.model_copy(update={"has_part": kids})
        return los

    roots = [build(r, frozenset({r.key})) for r in children.get(None, [])]
    # Records in a parent cycle are never reached from a root; report them instead of looping.
    for record in by_key.values():
        if record.key not in placed:
            issues.append(RecordIssue("parent_key", "parent cycle; record skipped"))
    return roots, issues


def build_issuer(
    *, schac: str, titles: dict[str, str], url: str, country: str | None = None,
    erasmus: str | None = None, pic: str | None = None,
) -> Issuer:
    identifiers = [Identifier(type="schac", value=schac)]
    if erasmus:
        identifiers.append(Identifier(type="erasmus", value=erasmus))
    if pic:
        identifiers.append(Identifier(type="pic", value=pic))
    return Issuer(
        country=country, identifiers=identifiers,
        titles=[LocalizedToken(value=v, lang=k) for k, v in titles.items()], url=url,
    )


def build_report(
    issuer: Issuer,
    records: Sequence[ResultRecord],
    grading_schemes: Sequence[GradingScheme],
    issued: datetime,
) -> tuple[Report, list[RecordIssue]]:
    roots, issues = build_tree(records)
    used = {r.grading_scheme for r in records if r.grading_scheme}
    schemes = [s for s in grading_schemes if s.local_id in used]
    return Report(
        issuer=issuer, learning_opportunity_specifications=roots, issue_date=issued,
        grading_schemes=schemes,
    ), issues


def used_grading_schemes(report: Report) -> Report:
    """The report with only the grading schemes its results refer to (after a selection dropped some)."""
    used: set[str] = set()

    def walk(items: list[LearningOpportunitySpecification]) -> None:
        for los in items:
            if los.specifies.grading_scheme_local_id:
                used.add(los.specifies.grading_scheme_local_id)
            walk(los.has_part)

    walk(report.learning_opportunity_specifications)
    kept = [s for s in report.grading_schemes if s.local_id in used]
    return report if len(kept) == len(report.grading_schemes) else report.model_copy(update={"grading_schemes": kept})


def total_ects(report: Report) -> Decimal:
    total = Decimal(0)

    def walk(items: list[LearningOpportunitySpecification]) -> None:
        nonlocal total
        for los in items:
            total += los.specifies.credit("ects") or 0
            walk(los.has_part)

    walk(report.learning_opportunity_specifications)
    return total
