"""GET /v1/clients/{client_id}: a registered EMREX 2.0 client, from the last good copy of the client list."""

from fastapi import APIRouter, Request, Response

from ncp_contracts.registry_models import RegisteredClient
from ncp_registry_cache.domain.clients import CLIENTS
from ncp_registry_cache.refresher import Refresher
from ncp_runtime import ProblemError

from .views import freshness_headers, now

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get("/clients/{client_id:path}", responses={
    404: {"description": "no such client, or no client list configured"},
    503: {"description": "the client list has not been loaded yet"},
})
async def get_client(client_id: str, request: Request, response: Response) -> RegisteredClient:
    refresher: Refresher = request.state.refresher
    view = refresher.view
    if CLIENTS not in view.kinds:
        raise ProblemError(404, "unknown_client", "no EMREX 2.0 client list is configured on this registry-cache")
    directory = view.clients
    if directory is None:
        # Never "unknown": a client that is registered must not be refused because we have no copy yet.
        raise ProblemError(503, "registry_unavailable", "no good copy of the client list has been loaded yet",
                           headers={"Retry-After": "5"})
    fresh = view.source_freshness(CLIENTS, now())
    freshness_headers(response, fresh)
    client = directory.get(client_id) if len(client_id) <= 255 else None
    if client is None:
        raise ProblemError(404, "unknown_client", "no registered client has this client_id")
    return RegisteredClient(client_id=client.client_id, name=client.name, redirect_uris=list(client.redirect_uris),
                            jwks=client.jwks, jwks_uri=client.jwks_uri, stale=fresh.stale,
                            age_seconds=fresh.age_seconds)
