"""The gateway's error vocabulary lives in the domain (`domain/errors.py`); `domain/answers.py` maps each type to
the client's return code and catalogue text. Kept here: the name the OIDC adapter has always raised."""

from .domain.errors import LoginFailed, LoginUnavailable, TransferError

LoginError = LoginFailed
GatewayError = TransferError

__all__ = ["GatewayError", "LoginError", "LoginFailed", "LoginUnavailable", "TransferError"]
