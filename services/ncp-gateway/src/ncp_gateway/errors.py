"""The gateway's error vocabulary; each maps to an EMREX outcome in web/handoff (the one translation point)."""


class GatewayError(Exception):
    code = "gateway_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LoginError(GatewayError):
    """The OIDC login failed: provider down, bad state or nonce, invalid ID token."""


class TransferError(GatewayError):
    """A step after login failed (SIS, signer, our own document checks)."""
