from typing import Annotated

from fastapi import APIRouter, Query, Response

from ncp_contracts.registry_models import CertificateList, EmpEntry, EmpList
from ncp_registry_cache.deps import ViewDep
from ncp_runtime import ProblemError, problems

from .views import NOT_LOADED, emp_entry, freshness_headers, node_certificates, now, version_of

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get("/emps", responses=NOT_LOADED)
async def list_emps(
    view: ViewDep, response: Response,
    country: Annotated[str | None, Query(max_length=8)] = None,
    institution: Annotated[str | None, Query(max_length=256, description="display name or SCHAC code")] = None,
    acronym: Annotated[str | None, Query(max_length=128)] = None,
) -> EmpList:
    assert view.index is not None
    fresh = view.freshness(now())
    freshness_headers(response, fresh)
    nodes = view.index.filter(country=country, institution=institution, acronym=acronym)
    return EmpList(emps=[emp_entry(n) for n in nodes], version=version_of(view), stale=fresh.stale,
                   age_seconds=fresh.age_seconds)


@router.get("/emps/lookup", responses={**problems({404: "no node has this URL or origin"}), **NOT_LOADED})
async def lookup_emp(view: ViewDep, response: Response,
                     url: Annotated[str, Query(min_length=1, max_length=2048)]) -> EmpEntry:
    assert view.index is not None
    freshness_headers(response, view.freshness(now()))
    node = view.index.lookup(url)
    if node is None:
        raise ProblemError(404, "unknown_node", "no registered node has this URL or origin")
    return emp_entry(node)


@router.get("/certificates", responses={
    **problems({400: "give exactly one of `url` and `acronym`", 404: "no such node"}), **NOT_LOADED,
})
async def get_certificates(
    view: ViewDep, response: Response,
    url: Annotated[str | None, Query(max_length=2048)] = None,
    acronym: Annotated[str | None, Query(max_length=128)] = None,
) -> CertificateList:
    assert view.index is not None
    if (url is None) == (acronym is None):
        raise ProblemError(400, "invalid_request", "give exactly one of `url` and `acronym`")
    if url is not None:
        found = view.index.lookup(url)
        nodes = [found] if found is not None else []
    else:
        assert acronym is not None
        nodes = view.index.by_acronym(acronym)
    if not nodes:
        raise ProblemError(404, "unknown_node", "no registered node matches")
    at = now()
    fresh = view.freshness(at)
    freshness_headers(response, fresh)
    return CertificateList(nodes=[node_certificates(n, at) for n in nodes], version=version_of(view),
                           stale=fresh.stale, age_seconds=fresh.age_seconds)
