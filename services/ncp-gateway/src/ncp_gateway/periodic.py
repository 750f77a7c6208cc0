"""A background job run every so often until the app stops; stopping waits for the run under way to end.

Cancelled halfway through an async database call, a job would leave the driver to close that connection later,
inside its transaction: on SQLite the connection keeps the write lock until then, and every other writer waits
out its busy timeout (the registry-cache's refresher stops the same way, for the same reason).
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger("ncp_gateway")


@contextlib.asynccontextmanager
async def every(seconds: float, job: Callable[[], Awaitable[object]], *, name: str) -> AsyncIterator[None]:
    """Runs `job` now and then every `seconds` while the context is open; a failed run is logged (its type only)
    and the next one tries again."""
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            try:
                await job()
            except Exception as exc:  # a database hiccup must not end the loop
                log.warning("%s failed (%s)", name, type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        stop.set()
        await task
