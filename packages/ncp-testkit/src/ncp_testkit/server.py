"""A real HTTP server for tests: any ASGI app under uvicorn on a free loopback port, in a thread."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
