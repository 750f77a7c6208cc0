from typing import Annotated, TypedDict

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_runtime import CallerTokens, from_state

from .adapters.build import Tenants
from .settings import Settings


class State(TypedDict):
    settings: Settings
    engine: AsyncEngine
    tenants: Tenants
    tokens: CallerTokens


TenantsDep = Annotated[Tenants, Depends(from_state("tenants", Tenants))]
