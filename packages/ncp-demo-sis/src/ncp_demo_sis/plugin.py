"""The sis-adapter's view of the demo SIS (entry point `ncp_sis_adapter.demo`): its tenants and its seed."""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from . import DEMO_TENANTS
from .data import SeedSummary, seed


@dataclass(frozen=True)
class DemoSis:
    tenants_path: Path

    async def seed(self, engine: AsyncEngine) -> SeedSummary:
        """Fill the database when the demo data is missing (idempotent)."""
        return await seed(engine)


DEMO = DemoSis(tenants_path=DEMO_TENANTS)
