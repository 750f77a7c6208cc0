from typing import Annotated, TypedDict

from fastapi import Depends, Request

from .web.context import Gateway


class State(TypedDict):
    gateway: Gateway


async def get_gateway(request: Request) -> Gateway:
    gateway: Gateway = request.state.gateway
    return gateway


GatewayDep = Annotated[Gateway, Depends(get_gateway)]
