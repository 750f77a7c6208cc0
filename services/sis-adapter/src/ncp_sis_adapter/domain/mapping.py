"""Flat SIS result records to the ELMO model: the LOS tree, ECTS on leaves, one report per institution."""

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter

from emrex_elmo import Identifier, Issuer, LearningOpportunitySpecification, LocalizedToken, Report
from emrex_elmo.model import LOS_TYPE_RANK, GradingScheme
from emrex_elmo.vocabulary import walk

from .documents import LosDocument, ReportDocument
from .records import RecordIssue, ResultRecord

# The model's own rules for text (emrex_elmo.model): XML 1.0 characters only; tokens collapse whitespace.
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WS = re.compile(r"[\u0009\u000a\u000d\u0020]+")
_NEEDS_COLLAPSE = re.compile(r"[\u0009\u000a\u000d]|\u0020\u0020|^\u0020|\u0020$")
# The usual record in one search over its texts joined by NUL: only characters XML carries, and nothing to
# collapse (no TAB, LF, CR, double space, or space at either end of a text). A hit takes the exact checks.
_NOT_PLAIN = re.compile(
    "[^\u0000\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|\u0020\u0020|\u0000\u0020|\u0020\u0000|^\u0020|\u0020$"
)

_NUL_JOIN = "\x00".join
# A printable separator for the quicker check below; a text that holds it only takes the slower path.
_SEP = "\u241e"
_SEP_JOIN = _SEP.join
_SPACE_AT_AN_END = (f"\x20{_SEP}", f"{_SEP}\x20")


def _token(value: str) -> str:
    return _WS.sub(" ", value).strip() if _NEEDS_COLLAPSE.search(value) else value


def _clean(record: ResultRecord) -> ResultRecord | RecordIssue:
    """The record with its text as the model stores it, or an issue when XML cannot carry it.

    Checked once per record here, so the tree can be written as plain dicts: for a learner with hundreds of
    results, per-field model validation was most of the query time.
    """
    joined = _SEP_JOIN((record.key, record.code, record.grading_scheme or "", record.result_label or "",
                        record.language or "", record.eqf_level or "", record.isced or "",
                        *map(_SEP_JOIN, record.titles), *map(_SEP_JOIN, record.term.titles if record.term else ())))
    # The common case without a regex (that search was most of this function): a printable string holds only
    # characters XML carries and no whitespace but the ASCII space; then no text may have a double space or a
    # space at either end. Titles have no space at their ends then, so a non-empty one is not blank.
    if (joined.isprintable() and "\x20\x20" not in joined and _SPACE_AT_AN_END[0] not in joined
            and _SPACE_AT_AN_END[1] not in joined and joined[:1] != "\x20" and joined[-1:] != "\x20"
            and all(v for _, v in record.titles)):
        return record
    plain = _NUL_JOIN((record.key, record.code, record.grading_scheme or "", record.result_label or "",
                       record.language or "", record.eqf_level or "", record.isced or "",
                       *map(_NUL_JOIN, record.titles), *map(_NUL_JOIN, record.term.titles if record.term else ())))
    if _NOT_PLAIN.search(plain) is None and all(v.strip() for _, v in record.titles):
        return record  # already as the model stores it, with characters the quicker check does not take
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
        term = term._replace(titles=tuple((_token(lang), _token(v)) for lang, v in term.titles))
    return record._replace(
        key=_token(record.key), code=_token(record.code), titles=titles, term=term,
        grading_scheme=_token(record.grading_scheme) if record.grading_scheme else None,
        result_label=_token(record.result_label) if record.result_label else None,
    )


def _los(record: ResultRecord, parts: list[LosDocument], shared: dict[object, Any]) -> LosDocument:
    """One LOS in the answer's JSON shape (field order and None-less, as the model dumps it).

    Values were checked by _clean, and ReportDocument.model() validates the result in the tests. `shared` holds
    the parts many records have alike (their term, their level), written once per report: documents are never
    mutated, so they may share them.
    """
    (key, code, titles, type_, _, status, start, date, term, scheme, label, credits, eqf_level, language,
     isced) = record
    academic_term = None
    if term is not None:
        academic_term = shared.get(term)
        if academic_term is None:
            academic_term = shared[term] = {"titles": [{"value": v, "lang": lang} for lang, v in term.titles],
                                            "start": term.start, "end": term.end}
    levels: list[dict[str, str]] | None = []
    if eqf_level:
        levels = shared.get(eqf_level)
        if levels is None:
            levels = shared[eqf_level] = [{"type": "EQF", "value": eqf_level}]
    # One dict display in the model's field order (several times quicker than adding the keys one by one), then
    # the optional fields that are None left out, which keeps the order of the others.
    loi: dict[str, Any] = {
        "identifiers": [{"type": "local", "value": key}], "start": start, "date": date,
        "academic_term": academic_term, "status": status, "grading_scheme_local_id": scheme, "result_label": label,
        # ELMO XSD: "If this tree node contains ECTS credits earned, then all of its descendants and
        # ancestors MUST NOT", so credits are given on the leaves only.
        "credits": [{"scheme": "ects", "value": credits}] if not parts and credits is not None else [],
        "levels": levels, "language_of_instruction": language, "attachment_refs": [], "extension": [],
    }
    if start is None or date is None or term is None or status is None or scheme is None or label is None or (
            language is None):
        loi = {name: value for name, value in loi.items() if value is not None}
    los: LosDocument = {
        "identifiers": [{"type": "local", "value": code}], "titles": [{"value": v, "lang": lang} for lang, v in titles],
        "type": type_, "isced_code": isced, "descriptions": [], "descriptions_html": [], "specifies": loi,
        "specifies_extension": [], "has_part": parts, "extension": [],
    }
    if isced is None:
        del los["isced_code"]
    return los


_LOS_LIST: TypeAdapter[list[LearningOpportunitySpecification]] = TypeAdapter(list[LearningOpportunitySpecification])


def los_documents(records: Sequence[ResultRecord]) -> tuple[list[LosDocument], list[RecordIssue]]:
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
    shared: dict[object, Any] = {}  # a Term or an EQF level (str): never equal to each other

    def build(record: ResultRecord, path: frozenset[str]) -> LosDocument:
        placed.add(record.key)
        parts = [build(c, path | {c.key}) for c in children.get(record.key, []) if c.key not in path]
        return _los(record, parts, shared)

    roots = [build(r, frozenset({r.key})) for r in children.get(None, [])]
    # Records in a parent cycle are never reached from a root; report them instead of looping.
    for record in by_key.values():
        if record.key not in placed:
            issues.append(RecordIssue("parent_key", "parent cycle; record skipped"))
    return roots, issues


def build_tree(
    records: Sequence[ResultRecord],
) -> tuple[list[LearningOpportunitySpecification], list[RecordIssue]]:
    """los_documents as validated model objects."""
    roots, issues = los_documents(records)
    return _LOS_LIST.validate_python(roots), issues


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


def report_document(
    issuer: dict[str, Any],
    records: Sequence[ResultRecord],
    grading_schemes: Sequence[dict[str, Any]],
    issued: datetime,
) -> tuple[ReportDocument, list[RecordIssue]]:
    """The report in the answer's JSON shape; `issuer` and `grading_schemes` as their models dump them."""
    roots, issues = los_documents(records)
    used = {r.grading_scheme for r in records if r.grading_scheme}
    schemes = [s for s in grading_schemes if s["local_id"] in used]
    return ReportDocument({
        "issuer": issuer, "learning_opportunity_specifications": roots, "issue_date": issued,
        "grading_schemes": schemes, "attachments": [], "results_of_recognition": [],
    }), issues


def build_report(
    issuer: Issuer,
    records: Sequence[ResultRecord],
    grading_schemes: Sequence[GradingScheme],
    issued: datetime,
) -> tuple[Report, list[RecordIssue]]:
    """report_document as the validated model."""
    document, issues = report_document(
        issuer.model_dump(exclude_none=True), records, [s.model_dump(exclude_none=True) for s in grading_schemes],
        issued,
    )
    return document.model(), issues


def total_ects(report: Report) -> Decimal:
    return sum((los.specifies.credit("ects") or Decimal(0) for los in walk(report.learning_opportunity_specifications)),
               Decimal(0))
