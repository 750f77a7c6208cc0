"""The demo SIS as a plugin: installed in development (package ncp-demo-sis), absent from production images.

The service never imports the demo package; it asks for the entry point `ncp_sis_adapter.demo` only when
NCP_SIS_SEED_DEMO is set, so a production image asked to seed fails with a message, not an ImportError.
"""

from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from ncp_sis_adapter.config import ConfigError

GROUP = "ncp_sis_adapter.demo"

NOT_INSTALLED = (
    "NCP_SIS_SEED_DEMO=true, but the demo SIS is not installed (package ncp-demo-sis; production images "
    "leave it out). Unset NCP_SIS_SEED_DEMO, or run a development image (ncp-sis-adapter-dev)."
)


class SeedOutcome(Protocol):
    @property
    def seeded(self) -> bool: ...

    @property
    def learners(self) -> int: ...


class DemoSis(Protocol):
    @property
    def tenants_path(self) -> Path: ...

    async def seed(self, engine: AsyncEngine) -> SeedOutcome: ...


def load_demo() -> DemoSis:
    found = entry_points(group=GROUP, name="demo")
    if not found:
        raise ConfigError(NOT_INSTALLED)
    try:
        plugin: DemoSis = next(iter(found)).load()
    except ImportError:  # metadata left behind by a package that is gone
        raise ConfigError(NOT_INSTALLED) from None
    return plugin
