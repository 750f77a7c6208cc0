"""Dependency aliases; everything comes from the lifespan state, nothing from module globals."""

from typing import Annotated, TypedDict

from fastapi import Depends, Request

from ncp_runtime import CallerTokens, ProblemError, from_state

from .refresher import Refresher, RegistryView
from .settings import Settings


class State(TypedDict):
    settings: Settings
    refresher: Refresher
    tokens: CallerTokens | None


RefresherDep = Annotated[Refresher, Depends(from_state("refresher", Refresher))]


async def _view(refresher: RefresherDep) -> RegistryView:
    """The current view; 503 until a good copy exists (a 404 would read as "unknown node")."""
    view = refresher.view
    if not view.ready:
        raise ProblemError(503, "registry_unavailable", "no good copy of the registry has been loaded yet",
                           headers={"Retry-After": "5"})
    return view


def caller_tokens(request: Request) -> CallerTokens:
    tokens: CallerTokens | None = request.state.tokens
    if tokens is None:
        raise ProblemError(401, "unauthenticated", "no caller tokens are configured on this service")
    return tokens


SettingsDep = Annotated[Settings, Depends(from_state("settings", Settings))]
ViewDep = Annotated[RegistryView, Depends(_view)]
