"""`python -m ncp_registry_cache [serve|migrate|refresh]`."""

import argparse
import asyncio
import sys

import httpx
import uvicorn

from ncp_runtime import configure_logging

from .adapters.db import create_engine, migrate
from .adapters.store import Store
from .settings import Settings


async def _migrate(settings: Settings) -> int:
    engine = create_engine(settings.async_database_url, settings.database_schema)
    try:
        await migrate(engine, settings.database_schema)
    finally:
        await engine.dispose()
    print("database is at the latest migration")  # noqa: T201
    return 0


async def _refresh(settings: Settings) -> int:
    """One refresh and exit (a Kubernetes CronJob); exit 1 when a source failed or was rejected."""
    from .app import make_refresher

    engine = create_engine(settings.async_database_url, settings.database_schema)
    try:
        await migrate(engine, settings.database_schema)
        async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as http:  # HttpSource follows
            refresher = make_refresher(settings, Store(engine), http)
            await refresher.sync()
            outcomes = await refresher.refresh(force=True)
    finally:
        await engine.dispose()
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        print(f"{outcome.kind}: {outcome.outcome}{detail}")  # noqa: T201
    return 1 if any(o.outcome in ("failed", "rejected") for o in outcomes) else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ncp-registry-cache", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "refresh"])
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        uvicorn.run("ncp_registry_cache.app:create_app", factory=True, host=settings.host, port=settings.port,
                    log_config=None)
        return
    configure_logging("registry-cache", settings.log_level)
    runner = _migrate if args.command == "migrate" else _refresh
    sys.exit(asyncio.run(runner(settings)))


if __name__ == "__main__":
    main()
