"""Dependency aliases: everything comes from the lifespan state, nothing from module globals."""

from typing import Annotated

from fastapi import Depends
from fastapi.templating import Jinja2Templates

from ncp_contracts.registry import RegistryClient
from ncp_runtime import from_state

from .settings import Settings

SettingsDep = Annotated[Settings, Depends(from_state("settings", Settings))]
RegistryDep = Annotated[RegistryClient, Depends(from_state("registry", RegistryClient))]
TemplatesDep = Annotated[Jinja2Templates, Depends(from_state("templates", Jinja2Templates))]
