from typing import TYPE_CHECKING, Annotated, TypedDict

from fastapi import Depends, Request

from .web.context import Gateway

if TYPE_CHECKING:
    from .web.oauth2 import Emrex2


class State(TypedDict):
    gateway: Gateway
    emrex2: "Emrex2"


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
