"""Caller authentication for internal APIs: one bearer token per calling service, from secret files.

The tokens source is either a directory (a Kubernetes Secret mount: one file per caller, named after
it) or a file of `caller=token` lines. Tokens are compared in constant time and never logged.
"""

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials

from .openapi import bearer_scheme
from .problems import ProblemError


class DuplicateTokenError(ValueError):
    """Two callers share one token: a configuration error that stops the service (never names the token)."""


class CallerTokens:
    def __init__(self, tokens: dict[str, str]) -> None:
        if any(len(t) < 16 for t in tokens.values()):
            raise ValueError("caller tokens must be at least 16 characters")
        by_token: dict[str, list[str]] = {}
        for caller, token in sorted(tokens.items()):
            by_token.setdefault(token, []).append(caller)
        shared = [callers for callers in by_token.values() if len(callers) > 1]
        if shared:
            # One token for two callers would make every request of one look like the other's.
            raise DuplicateTokenError("callers " + "; ".join(" and ".join(c) for c in shared)
                                      + " have the same token: issue one token per caller")
        self._tokens = dict(tokens)

    @classmethod
    def load(cls, source: Path) -> "CallerTokens":
        tokens: dict[str, str] = {}
        if source.is_dir():
            for item in sorted(source.iterdir()):
                if item.is_file() and not item.name.startswith("."):
                    tokens[item.name] = item.read_text(encoding="utf-8").strip()
        else:
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                caller, sep, token = line.partition("=")
                if not sep or not caller.strip() or not token.strip():
                    raise ValueError(f"{source}:{number}: expected caller=token")
                tokens[caller.strip()] = token.strip()
        if not tokens:
            raise ValueError(f"{source}: no caller tokens")
        return cls(tokens)

    def caller_for(self, token: str) -> str | None:
        found = None
        for caller, expected in self._tokens.items():
            if hmac.compare_digest(expected.encode(), token.encode()):
                found = caller
        return found


def bearer_caller(
    tokens: Callable[[Request], CallerTokens], allowed: set[str] | None = None
) -> Callable[[Request], Awaitable[str]]:
    """A dependency that returns the authenticated caller's name.

    Missing or unknown credentials answer 401; a known caller outside `allowed` answers 403.
    """

    async def dependency(
        request: Request, _documented: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)] = None,
    ) -> str:
        # `_documented` puts the bearer scheme in the OpenAPI document; the header is checked below.
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(
                401, "unauthenticated", "a bearer token is required",
                headers={"WWW-Authenticate": 'Bearer realm="ncp"'},
            )
        caller = tokens(request).caller_for(token.strip())
        if caller is None:
            raise ProblemError(
                401, "invalid_token", "the bearer token is not valid",
                headers={"WWW-Authenticate": 'Bearer realm="ncp", error="invalid_token"'},
            )
        if allowed is not None and caller not in allowed:
            raise ProblemError(403, "forbidden", f"caller {caller!r} may not use this endpoint")
        return caller

    return dependency


def read_secret(path: Path) -> str:
    """A secret file's content without surrounding whitespace (Secret mounts end in newlines)."""
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ValueError(f"{path} is empty")
    return value
