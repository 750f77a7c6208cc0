"""One query to every institution of a tenant at once, each with its own timeout and circuit breaker."""

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from emrex_elmo import Learner
from ncp_contracts.sis_models import InstitutionWarning, LearnerIdentity, QueryOptions

from .breaker import CircuitBreaker
from .documents import ReportDocument
from .matching import first_match, lookup_keys
from .records import IdentifierKind, RecordIssue, SourceAnswer
from .sources import SisSource, SourceBadData, SourceError, SourceRejected

log = logging.getLogger("ncp_sis_adapter.fanout")


@dataclass
class Institution:
    schac: str
    source: SisSource
    matching: list[IdentifierKind]
    timeout_seconds: float
    breaker: CircuitBreaker
    # Told each call's outcome (ok, timeout, unavailable, bad_data, error, circuit_open) and seconds taken.
    observe: Callable[[str, float | None], None] = field(default=lambda outcome, seconds: None)


@dataclass
class Outcome:
    learner: Learner | None = None
    reports: list[ReportDocument] = field(default_factory=list)
    warnings: list[InstitutionWarning] = field(default_factory=list)
    failed: int = 0  # institutions that could not answer (timeout, down, breaker open, unreadable, our bug)
    answered: int = 0

    @property
    def all_failed(self) -> bool:
        return self.failed > 0 and self.answered == 0

    @property
    def unknown(self) -> bool:
        """No results came, and some institution that might have them did not answer."""
        return not self.reports and self.failed > 0


def _issue_warnings(schac: str, issues: Sequence[RecordIssue]) -> list[InstitutionWarning]:
    counts: dict[tuple[str, str], int] = {}
    for issue in issues:
        counts[(issue.field, issue.reason)] = counts.get((issue.field, issue.reason), 0) + 1
    return [
        InstitutionWarning(
            institution=schac, code="bad_data",
            message=f"{n} record{'s' if n > 1 else ''}: field {fieldname!r}: {reason}",
        )
        for (fieldname, reason), n in counts.items()
    ]


def _merge_learner(base: Learner | None, other: Learner) -> Learner:
    if base is None:
        return other
    have = {(i.type, i.value) for i in base.identifiers}
    extra = [i for i in other.identifiers if (i.type, i.value) not in have]
    update: dict[str, object] = {}
    if extra:
        update["identifiers"] = [*base.identifiers, *extra]
    for name in ("bday", "citizenship", "gender"):
        if getattr(base, name) is None and getattr(other, name) is not None:
            update[name] = getattr(other, name)
    return base.model_copy(update=update) if update else base


async def _ask(institution: Institution, identity: LearnerIdentity) -> SourceAnswer | None:
    keys = lookup_keys(identity, institution.matching)
    async with asyncio.timeout(institution.timeout_seconds):
        found = await first_match(keys, institution.source.lookup)
    return None if found is None else found[1]


async def _one(
    institution: Institution, identity: LearnerIdentity
) -> tuple[SourceAnswer | None, InstitutionWarning | None]:
    schac = institution.schac
    breaker = institution.breaker
    if not breaker.allow():
        log.warning("institution skipped: circuit open", extra={"institution": schac})
        institution.observe("circuit_open", None)
        return None, InstitutionWarning(
            institution=schac, code="circuit_open",
            message="the institution failed repeatedly and is not asked for a while",
        )
    started = time.perf_counter()
    try:
        answer = await _ask(institution, identity)
    except TimeoutError:
        breaker.record_failure()
        institution.observe("timeout", time.perf_counter() - started)
        log.warning("institution timed out", extra={"institution": schac,
                                                    "timeout_s": institution.timeout_seconds})
        return None, InstitutionWarning(
            institution=schac, code="timeout",
            message=f"no answer within {institution.timeout_seconds:g} s",
        )
    except SourceBadData as exc:
        breaker.release()
        institution.observe("bad_data", time.perf_counter() - started)
        log.warning("institution answered unreadable data",
                    extra={"institution": schac, "field": exc.field, "reason": str(exc)})
        return None, InstitutionWarning(institution=schac, code="bad_data", message=str(exc))
    except SourceRejected as exc:
        breaker.release()  # the institution refused this request; that says nothing about its health
        institution.observe("rejected", time.perf_counter() - started)
        log.warning("institution refused the request", extra={"institution": schac, "reason": str(exc)})
        return None, InstitutionWarning(institution=schac, code="unavailable", message=str(exc))
    except SourceError as exc:
        breaker.record_failure()
        institution.observe("unavailable", time.perf_counter() - started)
        log.warning("institution unavailable", extra={"institution": schac, "reason": str(exc)})
        return None, InstitutionWarning(institution=schac, code="unavailable", message=str(exc))
    except Exception as exc:
        # A bug on our side (or input that slipped past the edge): it costs this answer one institution, but
        # is never charged to the institution's breaker, or a caller could take every institution offline.
        breaker.release()
        institution.observe("error", time.perf_counter() - started)
        error_id = uuid.uuid4().hex[:12]
        log.error("institution adapter failed", exc_info=exc, extra={"institution": schac, "error_id": error_id})
        return None, InstitutionWarning(institution=schac, code="internal_error",
                                        message=f"the institution's adapter failed (error id {error_id})")
    breaker.record_success()
    institution.observe("ok", time.perf_counter() - started)
    log.info("institution answered", extra={
        "institution": schac, "found": answer is not None,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    })
    return answer, None


async def query_institutions(
    institutions: Sequence[Institution], identity: LearnerIdentity, options: QueryOptions
) -> Outcome:
    """Ask all institutions concurrently; results in configuration order, with a warning per failure."""
    answers = await asyncio.gather(*(_one(i, identity) for i in institutions))
    outcome = Outcome()
    for institution, (answer, warning) in zip(institutions, answers, strict=True):
        if warning is not None:
            outcome.failed += 1
            outcome.warnings.append(warning)
            continue
        outcome.answered += 1
        if answer is None:
            continue
        if answer.issues:
            outcome.warnings.extend(_issue_warnings(institution.schac, answer.issues))
            for issue in answer.issues:
                log.warning("record skipped", extra={"institution": institution.schac,
                                                     "field": issue.field, "reason": issue.reason})
        reports = [r if isinstance(r, ReportDocument) else ReportDocument.of(r) for r in answer.reports]
        if not options.include_not_passed:
            reports = [r.passed_only() for r in reports]
        reports = [r for r in reports if r.has_results]
        if reports:
            outcome.learner = _merge_learner(outcome.learner, answer.learner)
            outcome.reports.extend(reports)
    return outcome
