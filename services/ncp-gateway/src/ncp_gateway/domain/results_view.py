"""What the selection and preview pages show: results grouped by institution as a flat hasPart tree."""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal

from emrex_elmo import Elmo, LearningOpportunitySpecification, Report
from emrex_elmo.vocabulary import has_passed_part, institution_code, local_code, pick_title, status

__all__ = ["FilterOptions", "Filters", "Group", "Row", "build_groups", "filter_options", "pick_title", "report_title"]


@dataclass(frozen=True)
class Filters:
    institution: str | None = None
    type: str | None = None
    level: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.institution, self.type, self.level, self.date_from, self.date_to))


@dataclass
class Row:
    key: str
    parent: str | None
    depth: int
    title: str
    code: str | None
    type: str | None
    level: str | None
    date: dt.date | None
    status: str
    grade: str | None
    credits: Decimal | None
    selectable: bool
    selected: bool
    children: list[str] = field(default_factory=list)


@dataclass
class Group:
    code: str
    title: str
    country: str | None
    rows: list[Row]
    credits: Decimal


@dataclass(frozen=True)
class FilterOptions:
    institutions: list[tuple[str, str]]
    types: list[str]
    levels: list[str]


def _level(los: LearningOpportunitySpecification) -> str | None:
    for level in los.specifies.levels:
        if level.type.upper() == "EQF" and level.value:
            return level.value
    return None


def _matches(los: LearningOpportunitySpecification, filters: Filters) -> bool:
    loi = los.specifies
    if filters.type and (los.type or "") != filters.type:
        return False
    if filters.level and _level(los) != filters.level:
        return False
    when = loi.date or loi.start
    if filters.date_from and (when is None or when < filters.date_from):
        return False
    return not (filters.date_to and (when is None or when > filters.date_to))


def build_groups(
    results: Elmo, *, lang: str, filters: Filters, selected: Collection[str], include_not_passed: bool
) -> list[Group]:
    """Rows in document order; a row is shown when it or a descendant matches the filters."""
    chosen = set(selected)
    groups: list[Group] = []
    for r, report in enumerate(results.reports):
        code = institution_code(report)
        if filters.institution and filters.institution != code:
            continue
        rows: list[Row] = []

        def visit(los: LearningOpportunitySpecification, key: str, parent: str | None, depth: int,
                  rows: list[Row] = rows) -> bool:
            loi = los.specifies
            row = Row(
                key=key, parent=parent, depth=depth, title=pick_title(los.titles, lang),
                code=local_code(los),
                type=los.type, level=_level(los), date=loi.date or loi.start,
                status=status(loi), grade=loi.result_label, credits=loi.credit("ects"),
                selectable=include_not_passed or has_passed_part(los), selected=key in chosen,
            )
            position = len(rows)
            rows.append(row)
            shown_children = False
            for i, child in enumerate(los.has_part):
                child_key = f"{key}.{i}"
                if visit(child, child_key, key, depth + 1):
                    row.children.append(child_key)
                    shown_children = True
            if shown_children or _matches(los, filters):
                return True
            del rows[position:]
            return False

        for i, los in enumerate(report.learning_opportunity_specifications):
            visit(los, f"r{r}.{i}", None, 0)
        if rows:
            groups.append(Group(
                code=code, title=pick_title(report.issuer.titles, lang), country=report.issuer.country,
                rows=rows, credits=sum((row.credits or Decimal(0) for row in rows), Decimal(0)),
            ))
    return groups


def filter_options(results: Elmo, lang: str) -> FilterOptions:
    institutions = [(institution_code(r), pick_title(r.issuer.titles, lang)) for r in results.reports]
    types: set[str] = set()
    levels: set[str] = set()
    for _, los, _ in results.iter_los():
        if los.type:
            types.add(los.type)
        if (level := _level(los)) is not None:
            levels.add(level)
    return FilterOptions(institutions=institutions, types=sorted(types), levels=sorted(levels))


def report_title(report: Report, lang: str) -> str:
    return pick_title(report.issuer.titles, lang)
