"""Flat SIS result records to the ELMO model: the LOS tree, ECTS on leaves, one report per institution."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

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
from emrex_elmo.vocabulary import walk

from .records import RecordIssue, ResultRecord

# The model's own rules for text (emrex_elmo.model): XML 1.0 characters only; tokens collapse whitespace.
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WS = re.compile(r"[\u0009\u000a\u000d\u0020]+")
_NEEDS_COLLAPSE = re.compile(r"[\u0009\u000a\u000d]|\u0020\u0020|^\u0020|\u0020$")


def _token(value: str) -> str:
    return _WS.sub(" ", value).strip() if _NEEDS_COLLAPSE.search(value) else value


def _clean(record: ResultRecord) -> ResultRecord | RecordIssue:
    """The record with its text as the model stores it, or an issue when XML cannot carry it.

    Checked once per record here, so the tree can be built with model_construct: for a learner with
    hundreds of results, per-field model validation was most of the query time.
    """
    texts = {
        "key": record.key, "code": record.code, "grading_scheme": record.grading_scheme or "",
        "result_label": record.result_label or "", "language": record.language or "",
        "eqf_level": record.eqf_level or "", "isced": record.isced or "",
        "titles": "\x20".join(f"{lang}\x20{v}" for lang, v in record.titles),
        "term": "\x20".join(v for _, v in record.term.titles) if record.term else "",
    }
    everything = "\x00".join(texts.values())  # NUL is invalid XML itself, so it cannot hide a finding
    if _XML_INVALID.search(everything.replace("\x00", "\x20")):
        for name, text in texts.items():
            if _XML_INVALID.search(text):
                return RecordIssue(name, "contains characters XML cannot carry; record skipped")
    if all(v.strip() for _, v in record.titles) and not any(
        _NEEDS_COLLAPSE.search(t) for t in (record.key, record.code, *(v for _, v in record.titles))
    ) and not (record.term and any(_NEEDS_COLLAPSE.search(v) for _, v in record.term.titles)) and not (
        record.grading_scheme and _NEEDS_COLLAPSE.search(record.grading_scheme)
    ) and not (record.result_label and _NEEDS_COLLAPSE.search(record.result_label)):
        return record  # the common case: already as the model stores it
    titles = tuple((_token(lang), _token(v)) for lang, v in record.titles)
    if any(not v for _, v in titles):
        return RecordIssue("titles", "blank; record skipped")
    term = record.term
    if term is not None:
        term = replace(term, titles=tuple((_token(lang), _token(v)) for lang, v in term.titles))
    return replace(
        record, key=_token(record.key), code=_token(record.code), titles=titles, term=term,
        grading_scheme=_token(record.grading_scheme) if record.grading_scheme else None,
        result_label=_token(record.result_label) if record.result_label else None,
    )


M = TypeVar("M", bound=BaseModel)
_TEMPLATES: dict[type[BaseModel], tuple[dict[str, Any], tuple[str, ...]]] = {}


def _build(cls: type[M], **values: Any) -> M:
    """model_construct without its per-field default computation (the hot path of big reports).

    Only for values already checked by _clean; every field gets a value, list defaults a fresh list.
    """
    template = _TEMPLATES.get(cls)
    if template is None:
        defaults = {name: field.get_default(call_default_factory=True) for name, field in cls.model_fields.items()}
        template = _TEMPLATES[cls] = (defaults, tuple(n for n, d in defaults.items() if isinstance(d, list)))
    defaults, list_fields = template
    data = defaults.copy()
    for name in list_fields:
        data[name] = []
    data.update(values)
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", data)
    object.__setattr__(model, "__pydantic_fields_set__", set(values))
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def _titles(pairs: Iterable[tuple[str, str]]) -> list[LocalizedToken]:
    return [_build(LocalizedToken, value=value, lang=lang) for lang, value in pairs]


def _ident(value: str) -> list[Identifier]:
    return [_build(Identifier, type="local", value=value)]


def _los(record: ResultRecord, leaf: bool) -> LearningOpportunitySpecification:
    # Values were checked by _clean; model_construct skips re-validating each of them.
    # ELMO XSD: "If this tree node contains ECTS credits earned, then all of its descendants and
    # ancestors MUST NOT", so credits are given on the leaves only.
    credits = (
        [_build(Credit, scheme="ects", level=None, value=record.credits)]
        if leaf and record.credits is not None else []
    )
    term = (
        _build(AcademicTerm, titles=_titles(record.term.titles), start=record.term.start,
                                     end=record.term.end)
        if record.term is not None else None
    )
    loi = _build(
        LearningOpportunityInstance,
        identifiers=_ident(record.key),
        start=record.start,
        date=record.date,
        academic_term=term,
        status=record.status,
        grading_scheme_local_id=record.grading_scheme,
        result_label=record.result_label,
        credits=credits,
        levels=[_build(Level, type="EQF", description=None, value=record.eqf_level)]
        if record.eqf_level else [],
        language_of_instruction=record.language,
    )
    return _build(
        LearningOpportunitySpecification,
        identifiers=_ident(record.code),
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
    for raw in records:
        record = _clean(raw)
        if isinstance(record, RecordIssue):
            issues.append(record)
            continue
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
            los.__dict__["has_part"] = kids  # built here, already valid; skips assignment validation
            los.__pydantic_fields_set__.add("has_part")
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
    used = {los.specifies.grading_scheme_local_id for los in walk(report.learning_opportunity_specifications)}
    kept = [s for s in report.grading_schemes if s.local_id in used]
    return report if len(kept) == len(report.grading_schemes) else report.model_copy(update={"grading_schemes": kept})


def total_ects(report: Report) -> Decimal:
    return sum((los.specifies.credit("ects") or Decimal(0) for los in walk(report.learning_opportunity_specifications)),
               Decimal(0))
