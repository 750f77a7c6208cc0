"""The one place that turns httpx outcomes into typed errors."""

import httpx

from .errors import RequestRejected, ServiceUnavailable


class BearerAuth(httpx.Auth):
    """Sends this caller's service token; read from a secret file by the caller's settings."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


async def send(http: httpx.AsyncClient, service: str, request: httpx.Request) -> httpx.Response:
    try:
        response = await http.send(request)
    except httpx.TimeoutException:
        raise ServiceUnavailable(service, "timed out") from None
    except httpx.TransportError as exc:
        raise ServiceUnavailable(service, f"unreachable ({type(exc).__name__})") from None
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
