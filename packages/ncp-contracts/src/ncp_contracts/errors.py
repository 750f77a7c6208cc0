"""Typed errors that the clients raise, so callers `except` on types, not status codes."""

from typing import Any


class ServiceError(Exception):
    """An internal service answered with a problem, or could not be reached."""

    def __init__(self, service: str, detail: str, *, status: int | None = None,
                 code: str | None = None, problem: dict[str, Any] | None = None) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail
        self.status = status
        self.code = code
        self.problem = problem or {}


class ServiceUnavailable(ServiceError):
    """Not reachable, timed out, or answered 5xx: a retry later may work."""


class RequestRejected(ServiceError):
    """The service refused the request (4xx): the input or the credentials are wrong."""
