"""The session cookie: a random token, signed (itsdangerous), HttpOnly, SameSite=Lax; the record is in the DB."""

import secrets

from itsdangerous import BadSignature, Signer
from starlette.responses import Response


class SessionCookie:
    def __init__(self, secret: bytes, *, secure: bool, max_age: int) -> None:
        self._signer = Signer(secret, salt="ncp-gateway.session")
        self.secure = secure
        # __Host- binds the cookie to this exact origin (no Domain, Path=/), which needs Secure.
        self.name = "__Host-ncp_gateway" if secure else "ncp_gateway"
        self.max_age = max_age

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    def read(self, raw: str | None) -> str | None:
        if not raw:
            return None
        try:
            return self._signer.unsign(raw).decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            return None

    def set(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.name, self._signer.sign(token).decode("ascii"), max_age=self.max_age, path="/",
            secure=self.secure, httponly=True, samesite="lax",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(self.name, path="/", secure=self.secure, httponly=True, samesite="lax")
