"""A SIS's JSON answer to result records, through the declarative mapping of the tenants file.

A record that cannot be mapped exactly is skipped and reported (field and reason, never the value):
a grade outside the code list must never become a silently wrong grade.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from emrex_elmo import Identifier, Learner
from ncp_sis_adapter.config import LearnerMapping, RecordMapping

from .jsonpath import MISSING, resolve
from .records import LosType, RecordIssue, ResultRecord, Status, Term

_LOS_TYPES: tuple[LosType, ...] = ("Degree Programme", "Module", "Course", "Class")
_STATUSES: tuple[Status, ...] = ("passed", "failed", "in-progress")
_LANGUAGE = re.compile(r"[a-z]{2}")
_EQF = {"1", "2", "3", "4", "5", "6", "7", "8"}


class Skip(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.issue = RecordIssue(field, reason)


def _text(value: Any) -> str | None:
    if value is MISSING or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("not text")
    text = str(value).strip()
    return text or None


def _get(record: Any, field: str, path: str | None, *, required: bool = False) -> str | None:
    if path is None:
        return None
    try:
        value = _text(resolve(record, path))
    except ValueError:
        raise Skip(field, "not a text or number") from None
    if value is None and required:
        raise Skip(field, "missing")
    return value


def _coded(record: Any, field: str, path: str | None, code_list: dict[str, str]) -> str | None:
    value = _get(record, field, path)
    if value is None or not code_list:
        return value
    if value not in code_list:
        raise Skip(field, "not in the code list")
    return code_list[value]


def _date(record: Any, field: str, path: str | None) -> date | None:
    value = _get(record, field, path)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise Skip(field, "not an ISO date") from None


def map_record(record: Any, m: RecordMapping) -> ResultRecord:
    """One record, or Skip naming the first field that cannot be mapped."""
    if not isinstance(record, dict):
        raise Skip("record", "not an object")
    key = _get(record, "key", m.key, required=True)
    code = _get(record, "code", m.code, required=True)
    titles = tuple((lang, t) for lang, path in m.titles.items() if (t := _get(record, f"titles.{lang}", path)))
    if not titles:
        raise Skip("titles", "missing")
    los_type = _coded(record, "type", m.type, dict(m.type_map)) or m.default_type
    if los_type not in _LOS_TYPES:
        raise Skip("type", "not a known learning opportunity type")
    status = _coded(record, "status", m.status, dict(m.status_map)) or ("passed" if m.status is None else None)
    if status not in _STATUSES:
        raise Skip("status", "missing" if status is None else "not passed, failed or in-progress")
    grade = _coded(record, "grade", m.grade, m.grade_map)
    scheme = _coded(record, "grading_scheme", m.grading_scheme, m.grading_scheme_map) or m.default_grading_scheme
    credits_text = _get(record, "credits", m.credits)
    credits = None
    if credits_text is not None:
        try:
            credits = Decimal(credits_text.replace(",", "."))
        except InvalidOperation:
            raise Skip("credits", "not a number") from None
        if not credits.is_finite() or credits < 0 or credits > 1000:
            raise Skip("credits", "out of range")
    level = _coded(record, "level", m.level, m.level_map)
    if level is not None and level not in _EQF:
        raise Skip("level", "not an EQF level 1-8")
    language = _coded(record, "language", m.language, m.language_map)
    if language is not None:
        language = language.lower()
        if not _LANGUAGE.fullmatch(language):
            raise Skip("language", "not an ISO 639-1 code")
    term = None
    term_title = _get(record, "term_title", m.term_title)
    term_start, term_end = _date(record, "term_start", m.term_start), _date(record, "term_end", m.term_end)
    if term_title and term_start and term_end:
        term = Term(((titles[0][0], term_title),), term_start, term_end)
    return ResultRecord(
        key=key or "", code=code or "", titles=titles, type=los_type,
        parent_key=_get(record, "parent_key", m.parent_key), status=status,
        start=_date(record, "start", m.start), date=_date(record, "date", m.date), term=term,
        grading_scheme=scheme, result_label=grade, credits=credits, eqf_level=level, language=language,
        isced=_get(record, "isced", m.isced),
    )


def map_records(items: list[Any], m: RecordMapping) -> tuple[list[ResultRecord], list[RecordIssue]]:
    records: list[ResultRecord] = []
    issues: list[RecordIssue] = []
    for item in items:
        try:
            records.append(map_record(item, m))
        except Skip as skip:
            issues.append(skip.issue)
    return records, issues


def map_learner(document: Any, m: LearnerMapping) -> Learner:
    """The learner; raises Skip when a required field is missing (the whole answer is unusable)."""
    given = _get(document, "learner.given_names", m.given_names, required=True)
    family = _get(document, "learner.family_name", m.family_name, required=True)
    bday = _date(document, "learner.bday", m.bday)
    identifiers = []
    if national_id := _get(document, "learner.national_id", m.national_id):
        identifiers.append(Identifier(type="nationalIdentifier", value=national_id))
    if esi := _get(document, "learner.esi", m.esi):
        identifiers.append(Identifier(type="esi", value=esi))
    citizenship = _get(document, "learner.citizenship", m.citizenship)
    if citizenship is not None and not re.fullmatch(r"[A-Z]{2}", citizenship):
        citizenship = None
    return Learner(given_names=given or "", family_name=family or "", bday=bday, identifiers=identifiers,
                   citizenship=citizenship)
