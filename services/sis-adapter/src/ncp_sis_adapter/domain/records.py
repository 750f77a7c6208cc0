"""What an adapter reads from a SIS, before it becomes ELMO: flat result records with parent links."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from emrex_elmo import Learner, Report
from emrex_elmo.model import GradingScheme, LoiStatus, LosType as LosType
from ncp_contracts.sis_models import IdentifierKind as IdentifierKind

from .documents import ReportDocument

Status = LoiStatus


class Term(NamedTuple):
    titles: tuple[tuple[str, str], ...]  # (lang, title)
    start: dt.date
    end: dt.date


class ResultRecord(NamedTuple):
    """One learning opportunity a learner took (a degree, module or course) and its outcome.

    Immutable; a NamedTuple because a 500-result answer makes 500 of them, and a frozen dataclass took
    several times as long to build.
    """

    key: str  # the instance's identifier at the SIS; unique per learner
    code: str  # the specification's code (course code)
    titles: tuple[tuple[str, str], ...]  # (lang, title); at least one
    type: LosType = "Course"
    parent_key: str | None = None
    status: Status = "passed"
    start: dt.date | None = None
    date: dt.date | None = None
    term: Term | None = None
    grading_scheme: str | None = None
    result_label: str | None = None
    credits: Decimal | None = None
    eqf_level: str | None = None
    language: str | None = None
    isced: str | None = None


@dataclass(frozen=True)
class RecordIssue:
    """A record that could not be mapped: which field and why, never the value."""

    field: str
    reason: str


@dataclass
class SourceAnswer:
    """What one institution's SIS knows about the learner: ELMO reports, as models or already as documents."""

    learner: Learner
    reports: Sequence[Report | ReportDocument]
    issues: list[RecordIssue] = field(default_factory=list)


@dataclass(frozen=True)
class MappedRecords:
    records: list[ResultRecord]
    grading_schemes: list[GradingScheme]
    issues: list[RecordIssue]
