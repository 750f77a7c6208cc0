"""`ncp-signer` / `python -m ncp_signer`: serve the signer with uvicorn on the configured host and port.

With mutual TLS, kubelet probes cannot present a client certificate; NCP_SIGNER_HEALTH_PORT then adds a
plain-HTTP listener that answers /healthz and /readyz only (health_only), never the signing API.
"""

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from ncp_signer.app import create_app
from ncp_signer.settings import Settings

# The plain listener (mTLS deployments): probes and the Prometheus scrape; nothing that signs or names a key.
OPERATIONS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def health_only(app: ASGIApp, state: Callable[[], dict[str, Any]]) -> ASGIApp:
    """`app` for probes and scrapes only; `state` is the main server's lifespan state (deps.State), which the
    listener (lifespan off) would not have otherwise."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in OPERATIONS_PATHS and scope["method"] in ("GET", "HEAD"):
            await app({**scope, "state": dict(state())}, receive, send)
            return
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": b"health and metrics only\n"})

    return guarded


def _tls(settings: Settings) -> dict[str, Any]:
    if settings.tls_cert_file is None:
        return {}
    tls: dict[str, Any] = {"ssl_certfile": str(settings.tls_cert_file), "ssl_keyfile": str(settings.tls_key_file)}
    if settings.tls_client_ca_file is not None:
        tls |= {"ssl_ca_certs": str(settings.tls_client_ca_file), "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return tls


class _QuietServer(uvicorn.Server):
    """The health listener: the main server owns the signal handlers and the app's lifespan."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    common: dict[str, Any] = {"host": settings.host, "log_config": None, "access_log": False}
    main = uvicorn.Server(uvicorn.Config(app, port=settings.port, **common, **_tls(settings)))
    if settings.health_port is None:
        await main.serve()
        return
    guarded = health_only(app, lambda: main.lifespan.state)
    health = _QuietServer(uvicorn.Config(guarded, port=settings.health_port, lifespan="off", **common))
    serving = asyncio.create_task(main.serve())

    async def health_after_start() -> None:
        while not main.started:  # the app state exists only once the lifespan has run
            if serving.done():
                return
            await asyncio.sleep(0.05)
        await health.serve()

    probing = asyncio.create_task(health_after_start())
    try:
        await serving
    finally:
        health.should_exit = True
        await probing


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop uvicorn.run would pick ("auto": uvloop when installed), as for the bare app the benchmark compares
    with; asyncio.run's stdlib loop costs more CPU per hop to a signing thread and back (0.13 against 0.09 ms)."""
    return uvicorn.Config(health_only, loop="auto").get_loop_factory()


def main() -> None:
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        runner.run(serve(Settings()))


if __name__ == "__main__":
    main()
