"""A real HTTP server for tests: any ASGI app under uvicorn on a free loopback port, in a thread; and a real
socket that takes a request and never answers (a hung upstream)."""

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago (for a process that binds it itself)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve_on_loopback(
    app: Any, *, lifespan: Literal["auto", "on", "off"] = "auto", startup_timeout: float = 15.0
) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields its base URL (`http://127.0.0.1:<port>`).

    The socket is bound before uvicorn starts, so no other process can take the port in between.
    """
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="critical", lifespan=lifespan, ws="none", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("test server did not start")
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A loopback socket that accepts each request, reads it and never answers, until the block ends; yields its
    port. What a hung upstream looks like to a client: only its read timeout ends the wait."""
    release = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(65_536)
        await release.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        release.set()
        server.close()
        await server.wait_closed()
        for writer in writers:
            writer.close()
        await asyncio.sleep(0.1)
