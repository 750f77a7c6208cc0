"""The one place that turns httpx outcomes into typed errors."""

import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .errors import RequestRejected, ServiceUnavailable


class BearerAuth(httpx.Auth):
    """Sends this caller's service token; read from a secret file by the caller's settings."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


async def send(http: httpx.AsyncClient, service: str, request: httpx.Request) -> httpx.Response:
    # A client span per internal call, and its W3C trace context (traceparent) on the request: the called
    # service continues the caller's trace. The span names the service and method, never the URL.
    with trace.get_tracer("ncp_contracts").start_as_current_span(
        f"{request.method} {service}", kind=SpanKind.CLIENT,
        attributes={"http.request.method": request.method, "peer.service": service},
    ) as span:
        propagate.inject(request.headers)
        try:
            response = await http.send(request)
        except httpx.TimeoutException:
            span.set_status(Status(StatusCode.ERROR, "timeout"))
            raise ServiceUnavailable(service, "timed out") from None
        except httpx.TransportError as exc:
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise ServiceUnavailable(service, f"unreachable ({type(exc).__name__})") from None
        span.set_attribute("http.response.status_code", response.status_code)
        if response.status_code >= 500:
            span.set_status(Status(StatusCode.ERROR))
    if response.status_code < 400:
        return response
    problem: dict[str, object] = {}
    if response.headers.get("content-type", "").startswith(("application/problem+json",
                                                             "application/json")):
        try:
            body = response.json()
            problem = body if isinstance(body, dict) else {}
        except ValueError:
            problem = {}
    detail = str(problem.get("detail") or response.reason_phrase or "error")
    code = str(problem["code"]) if "code" in problem else None
    error = ServiceUnavailable if response.status_code >= 500 else RequestRejected
    raise error(service, detail, status=response.status_code, code=code, problem=problem)
