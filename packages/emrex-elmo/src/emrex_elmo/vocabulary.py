"""What every reader of an ELMO document needs, written once: the hasPart tree walk, the title in the reader's
language, LOS types and statuses, an institution's code, and which results may leave (passed ones, of the
institution a client asked for)."""

from collections.abc import Iterable, Iterator, Sequence
from typing import Final, get_args

from .model import (
    Elmo,
    LearningOpportunityInstance,
    LearningOpportunitySpecification,
    LocalizedToken,
    LoiStatus,
    LosType,
    Report,
)
from .selection import all_keys, select

LOS_TYPES: Final[tuple[LosType, ...]] = get_args(LosType)
STATUSES: Final[tuple[LoiStatus, ...]] = get_args(LoiStatus)
# ELMO XSD: "If not present, then clients MUST assume that the status is passed".
IMPLIED_STATUS: Final[LoiStatus] = "passed"
# How an issuer is named, best first: SCHAC code, then Erasmus code (EWP `hei_id` is a SCHAC code).
INSTITUTION_IDENTIFIERS: Final = ("schac", "erasmus")

LOS = LearningOpportunitySpecification


def walk(items: Iterable[LOS]) -> Iterator[LOS]:
    """Every learning opportunity below `items`, depth first, in document order."""
    for los in items:
        yield los
        yield from walk(los.has_part)


def walk_with_depth(items: Iterable[LOS], depth: int = 0) -> Iterator[tuple[LOS, int]]:
    """`walk` with each node's depth (0 for `items` themselves)."""
    for los in items:
        yield los, depth
        yield from walk_with_depth(los.has_part, depth + 1)


def walk_keyed(prefix: str, items: Iterable[LOS], depth: int = 0) -> Iterator[tuple[str, LOS, int]]:
    """`walk_with_depth` with the selection key of each node (`r0.1.2`: report 0, its second LOS, third part)."""
    for i, los in enumerate(items):
        key = f"{prefix}.{i}"
        yield key, los, depth
        yield from walk_keyed(key, los.has_part, depth + 1)


def leaves(items: Iterable[LOS]) -> Iterator[LOS]:
    """The learning opportunities without parts (the courses a tree ends in)."""
    return (los for los in walk(items) if not los.has_part)


def status(loi: LearningOpportunityInstance) -> LoiStatus:
    return loi.status or IMPLIED_STATUS


def has_passed_part(los: LOS) -> bool:
    """Passed itself or holds a passed result: a degree in progress may be sent for its passed courses."""
    return los.specifies.passed or any(has_passed_part(part) for part in los.has_part)


def local_code(los: LOS) -> str | None:
    """The institution's own code of a learning opportunity (its `local` identifier, else the first one)."""
    return los.identifier("local") or (los.identifiers[0].value if los.identifiers else None)


def pick_title(titles: Sequence[LocalizedToken], lang: str = "en", fallback: str = "en") -> str:
    """The title in `lang` (its primary subtag: "de-AT" takes "de"), else in `fallback`, else the first one."""
    for wanted in (lang.lower().split("-")[0], fallback):
        for title in titles:
            if title.lang and title.lang.lower().split("-")[0] == wanted:
                return title.value
    return titles[0].value if titles else ""


def institution_code(report: Report) -> str:
    issuer = report.issuer
    for kind in INSTITUTION_IDENTIFIERS:
        if (value := issuer.identifier(kind)) is not None:
            return value
    return issuer.identifiers[0].value if issuer.identifiers else "?"


def passed_only(elmo: Elmo) -> Elmo:
    """The document without not-passed results (kept only as the ancestor of a passed one)."""
    return select(elmo, all_keys(elmo), include_not_passed=False)


def of_institution(elmo: Elmo, hei_id: str | None) -> Elmo:
    """Only the reports of the institution a client asked for (EWP `hei_id`), matched on any identifier."""
    if not hei_id:
        return elmo
    wanted = hei_id.lower()
    reports = [r for r in elmo.reports if any(i.value.lower() == wanted for i in r.issuer.identifiers)]
    return elmo.model_copy(update={"reports": reports})
