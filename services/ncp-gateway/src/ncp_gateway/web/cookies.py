"""Transfer cookies: one per transfer, named after its public id, holding a random token (signed, HttpOnly,
SameSite=Lax); the record is in the DB under the token's hash.

One cookie per transfer, not one per browser: a second `/emrex` (another tab, another client) adds a cookie
instead of replacing the first transfer's, so both can finish. Pages carry the id (`?t=`, a hidden field).
"""

import re
import secrets
from collections.abc import Mapping

from itsdangerous import BadSignature, Signer
from starlette.responses import Response

_TID = re.compile(r"[A-Za-z0-9_-]{16}")


class SessionCookie:
    def __init__(self, secret: bytes, *, secure: bool, max_age: int) -> None:
        self._signer = Signer(secret, salt="ncp-gateway.session")
        self.secure = secure
        # __Host- binds the cookie to this exact origin (no Domain, Path=/), which needs Secure.
        self.prefix = "__Host-ncp_t_" if secure else "ncp_t_"
        self.max_age = max_age

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def new_tid() -> str:
        return secrets.token_urlsafe(12)

    @staticmethod
    def valid_tid(value: str | None) -> bool:
        return value is not None and _TID.fullmatch(value) is not None

    def name(self, tid: str) -> str:
        return self.prefix + tid

    def read(self, raw: str | None) -> str | None:
        if not raw:
            return None
        try:
            return self._signer.unsign(raw).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    def token(self, cookies: Mapping[str, str], tid: str) -> str | None:
        return self.read(cookies.get(self.name(tid))) if self.valid_tid(tid) else None

    def transfers(self, cookies: Mapping[str, str]) -> dict[str, str]:
        """tid -> token for every transfer cookie this browser holds with a valid signature."""
        found: dict[str, str] = {}
        for name, raw in cookies.items():
            tid = name.removeprefix(self.prefix)
            if name.startswith(self.prefix) and self.valid_tid(tid) and (token := self.read(raw)) is not None:
                found[tid] = token
        return found

    def set(self, response: Response, tid: str, token: str) -> None:
        response.set_cookie(
            self.name(tid), self._signer.sign(token).decode("ascii"), max_age=self.max_age, path="/",
            secure=self.secure, httponly=True, samesite="lax",
        )

    def clear(self, response: Response, tid: str) -> None:
        response.delete_cookie(self.name(tid), path="/", secure=self.secure, httponly=True, samesite="lax")
