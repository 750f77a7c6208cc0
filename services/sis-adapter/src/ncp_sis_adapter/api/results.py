import logging
import time
from typing import Any

from fastapi import APIRouter, Response

from ncp_contracts.sis_models import ResultsAnswer, ResultsQuery
from ncp_runtime import problem, problems
from ncp_sis_adapter.api.answer_json import answer_json
from ncp_sis_adapter.deps import TenantsDep
from ncp_sis_adapter.domain.fanout import query_institutions
from ncp_sis_adapter.domain.identity import identity_problems
from ncp_sis_adapter.errors import AllInstitutionsFailedError, InvalidIdentityError, UnknownTenantError

router = APIRouter(prefix="/v1/results", tags=["results"])
log = logging.getLogger("ncp_sis_adapter.api")


@router.post("/query", response_model=ResultsAnswer, response_model_exclude_none=True, responses={
    **problems({404: "the tenant is not configured",
                422: "the identifiers are unusable (none, empty, too long, control characters, wildcards)"}),
    503: problem("no institution could answer, or none that answered had results while others failed: "
                 "`warnings` in the problem say which"),
})
async def query_results(query: ResultsQuery, tenants: TenantsDep) -> Response:
    institutions = tenants.by_name.get(query.tenant)
    if institutions is None:
        raise UnknownTenantError(f"tenant {query.tenant!r} is not configured")
    problems = identity_problems(query.identity)
    if problems:
        raise InvalidIdentityError("; ".join(problems))
    started = time.perf_counter()
    outcome = await query_institutions(institutions, query.identity, query.options)
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    if outcome.unknown:
        log.warning("query failed", extra={"tenant": query.tenant, "failed": outcome.failed,
                                           "answered": outcome.answered, "ms": elapsed})
        detail = (
            "no institution could be reached" if outcome.all_failed else
            f"no results from the institutions that answered, and {outcome.failed} could not be reached"
        )
        raise AllInstitutionsFailedError(
            detail, extra={"warnings": [w.model_dump() for w in outcome.warnings]}
        )
    log.info("query answered", extra={
        "tenant": query.tenant, "reports": len(outcome.reports), "warnings": len(outcome.warnings),
        "ms": elapsed,
    })
    # ResultsAnswer.model_dump_json(exclude_none=True), written in one pass from the reports' plain documents:
    # for hundreds of results, building and dumping the model objects cost several times more. response_model
    # still documents it; the tests check that the model reads it back unchanged.
    answer: dict[str, Any] = {"status": "ok" if outcome.reports else "no_results"}
    if outcome.learner is not None:
        answer["learner"] = outcome.learner
    answer["reports"] = [r.data for r in outcome.reports]
    answer["warnings"] = outcome.warnings
    return Response(answer_json(answer), media_type="application/json")
