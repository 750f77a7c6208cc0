"""The gateway's error vocabulary. Adapters raise these (or ncp_contracts' ServiceError); the web layer turns
each into NCP_ERROR with a safe message through Gateway.error_handoff, the one translation point."""


class GatewayError(Exception):
    code = "gateway_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LoginError(GatewayError):
    """The OIDC login failed: provider down, bad state or nonce, invalid ID token."""
