"""The lifespan's state and its dependency aliases: everything comes from the lifespan, nothing from module globals."""

from typing import Annotated, TypedDict

import httpx
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from ncp_contracts.registry import RegistryClient
from ncp_runtime import ProblemError, from_state

from .adapters.emrex2_node import Emrex2Node
from .settings import Settings
from .web.flows import Flows


class State(TypedDict):
    settings: Settings
    registry: RegistryClient
    templates: Jinja2Templates
    registry_http: httpx.AsyncClient
    emrex2: Emrex2Node | None  # None: EMREX 2.0 not configured (no NCP_DEMO_EMREX2_KEY_FILE)
    emrex2_flows: Flows


def emrex2_configured(request: Request) -> bool:
    return request.state.emrex2 is not None


def emrex2_node(request: Request) -> Emrex2Node:
    node: Emrex2Node | None = request.state.emrex2
    if node is None:
        raise ProblemError(404, "emrex2_not_configured", "EMREX 2.0 is not configured (NCP_DEMO_EMREX2_KEY_FILE)")
    return node


SettingsDep = Annotated[Settings, Depends(from_state("settings", Settings))]
RegistryDep = Annotated[RegistryClient, Depends(from_state("registry", RegistryClient))]
TemplatesDep = Annotated[Jinja2Templates, Depends(from_state("templates", Jinja2Templates))]
Emrex2ConfiguredDep = Annotated[bool, Depends(emrex2_configured)]
Emrex2NodeDep = Annotated[Emrex2Node, Depends(emrex2_node)]
FlowsDep = Annotated[Flows, Depends(from_state("emrex2_flows", Flows))]
