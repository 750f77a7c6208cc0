from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from ncp_contracts.registry import RegistryClient

from .settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


async def get_registry(request: Request) -> RegistryClient:
    registry: RegistryClient = request.state.registry
    return registry


async def get_templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.state.templates
    return templates


SettingsDep = Annotated[Settings, Depends(get_settings)]
RegistryDep = Annotated[RegistryClient, Depends(get_registry)]
TemplatesDep = Annotated[Jinja2Templates, Depends(get_templates)]
