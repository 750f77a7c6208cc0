"""An app in process: its lifespan run, then an httpx client on it (no sockets)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager


class AppClient(httpx.AsyncClient):
    """A client of one app run; `lifespan_state` is what its lifespan returned (the services' `deps.State`)."""

    lifespan_state: dict[str, Any]


@asynccontextmanager
async def asgi_client(
    app: Any, base_url: str = "http://test", *, startup_timeout: float = 5, **client_options: Any
) -> AsyncIterator[AppClient]:
    """`async with asgi_client(create_app(settings), "http://signer", auth=...) as http:` runs the app's lifespan
    (startup before the block, shutdown after) and calls it through `httpx.ASGITransport`; `client_options` go
    to `httpx.AsyncClient` (headers, auth, timeout, ...)."""
    async with LifespanManager(app, startup_timeout=startup_timeout) as manager, AppClient(
        transport=httpx.ASGITransport(app=manager.app), base_url=base_url, **client_options
    ) as client:
        client.lifespan_state = manager._state  # asgi-lifespan keeps it private; tests read it, nothing else
        yield client
