import logging
from typing import Annotated

from fastapi import APIRouter, Depends

from ncp_contracts.registry_models import RefreshOutcome, RefreshResult, RegistryStatus, SourceStatus
from ncp_registry_cache.adapters.sources import redact
from ncp_registry_cache.deps import RefresherDep, caller_tokens
from ncp_registry_cache.refresher import Refresher
from ncp_runtime import ProblemError, bearer_caller, problems

from .views import now, version_of

log = logging.getLogger("ncp_registry_cache.api")


async def current_status(refresher: Refresher) -> RegistryStatus:
    try:
        await refresher.sync()  # another replica may have stored a newer version or error
        stored = await refresher.store.count_versions()
    except Exception as exc:  # the database is down: answer from memory
        log.warning("status from memory only", extra={"error": type(exc).__name__})
        stored = 0
    view = refresher.view
    at = now()
    sources: list[SourceStatus] = []
    for kind in view.kinds:
        state = view.states.get(kind)
        loaded = view.loaded.get(kind)
        fresh = view.source_freshness(kind, at)
        sources.append(SourceStatus(
            kind=kind,
            source=redact(refresher.sources[kind].location),
            version=loaded.sha256 if loaded else None, format=loaded.format if loaded else None,
            fetched_at=loaded.fetched_at if loaded else None,
            last_checked_at=state.last_checked_at if state else None,
            last_success_at=state.last_success_at if state else None,
            age_seconds=fresh.age_seconds, stale=fresh.stale,
            last_error=state.last_error if state else None, last_error_at=state.last_error_at if state else None,
            failures=state.failures if state else 0,
            emps=len(loaded.registry.nodes) if loaded else 0,
        ))
    fresh = view.freshness(at)
    fetched = [s.fetched_at for s in sources if s.fetched_at is not None]
    errors = [f"{s.kind}: {s.last_error}" if len(sources) > 1 else s.last_error for s in sources if s.last_error]
    return RegistryStatus(
        version=version_of(view), fetched_at=min(fetched) if fetched else None, age_seconds=fresh.age_seconds,
        stale=fresh.stale, last_error="; ".join(e for e in errors if e) or None,
        emps=len(view.index) if view.index is not None else 0,
        source=", ".join(s.source or "" for s in sources),
        state="empty" if not view.ready else ("stale" if fresh.stale else "fresh"),
        countries=sum(len(v.registry.countries) for v in view.loaded.values()),
        versions_stored=stored, sources=sources,
    )


def build_router(refresh_callers: set[str]) -> APIRouter:
    router = APIRouter(tags=["status"])
    admin = Annotated[str, Depends(bearer_caller(caller_tokens, refresh_callers))]

    @router.get("/v1/status")
    async def get_status(refresher: RefresherDep) -> RegistryStatus:
        return await current_status(refresher)

    @router.post("/v1/refresh", responses=problems({
        401: "no bearer token, an unknown one, or no caller tokens configured on this service",
        409: "another replica is refreshing right now", 503: "the registry database cannot be reached"}))
    async def refresh_registry(refresher: RefresherDep, _caller: admin) -> RefreshResult:
        outcomes = await refresher.refresh(force=True)
        if all(o.outcome == "skipped" for o in outcomes):
            raise ProblemError(409, "refresh_in_progress", "another replica holds the refresh lease; try again")
        return RefreshResult(
            outcomes=[RefreshOutcome(kind=o.kind, outcome=o.outcome, detail=o.detail) for o in outcomes],
            status=await current_status(refresher),
        )

    return router
