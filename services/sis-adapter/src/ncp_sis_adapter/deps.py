from typing import Annotated, TypedDict

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_runtime import CallerTokens

from .adapters.build import Tenants
from .settings import Settings


class State(TypedDict):
    settings: Settings
    engine: AsyncEngine
    tenants: Tenants
    tokens: CallerTokens


async def get_tenants(request: Request) -> Tenants:
    tenants: Tenants = request.state.tenants
    return tenants


TenantsDep = Annotated[Tenants, Depends(get_tenants)]
