"""The one interface every SIS adapter implements, and the errors it may raise."""

from typing import Protocol

from .records import IdentifierKind, SourceAnswer


class SourceError(Exception):
    code = "unavailable"


class SourceUnavailable(SourceError):
    """The SIS could not be reached or answered with an error: retrying later may work."""

    code = "unavailable"


class SourceRejected(SourceError):
    """The SIS refused this request (an HTTP 4xx): the request, not the SIS's health, is at fault."""

    code = "unavailable"


class SourceBadData(SourceError):
    """The SIS answered something that cannot be read (malformed JSON, required fields missing)."""

    code = "bad_data"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class SisSource(Protocol):
    """One institution's student information system, asked by one kind of identifier at a time."""

    async def lookup(self, kind: IdentifierKind, value: str) -> SourceAnswer | None:
        """The learner and their results, or None when this SIS does not know the learner.

        Raises:
            SourceUnavailable: the SIS is down or failing (counts against its circuit breaker).
            SourceRejected: the SIS refused this request (does not count).
            SourceBadData: the SIS answered, but not in a form that can be mapped.
        """
        ...

    async def aclose(self) -> None: ...
