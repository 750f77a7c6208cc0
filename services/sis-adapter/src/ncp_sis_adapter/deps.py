from typing import Annotated, TypedDict

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_runtime import CallerTokens, from_state

from .adapters.build import Tenants
from .settings import Settings


class State(TypedDict):
    settings: Settings
    engine: AsyncEngine
    tenants: Tenants
    tokens: CallerTokens


def caller_tokens(request: Request) -> CallerTokens:
    """For ncp_runtime.bearer_caller, which takes the tokens from the request."""
    tokens: CallerTokens = request.state.tokens
    return tokens


TenantsDep = Annotated[Tenants, Depends(from_state("tenants", Tenants))]
