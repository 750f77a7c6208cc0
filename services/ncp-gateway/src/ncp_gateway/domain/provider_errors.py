"""Error answers of the OpenID provider's authorization endpoint, mapped to fixed catalogue texts.

RFC 6749 §4.1.2.1 and OpenID Connect Core §3.1.2.6 define the codes. Only `error` is read, and only to pick one
of our texts: `error_description`, `error_uri` and unknown codes never reach a page, a log or the client.
"""

from typing import Final

from .errors import LoginCancelled, ProviderReportedError, TransferError

_REJECTED = "return.login_rejected"  # our request was refused: a configuration matter for the operator
_NOT_COMPLETED = "return.login_not_completed"  # the provider needed the student and could not ask

PROVIDER_ERRORS: Final[dict[str, str]] = {
    # RFC 6749 §4.1.2.1
    "invalid_request": _REJECTED,
    "unauthorized_client": _REJECTED,
    "unsupported_response_type": _REJECTED,
    "invalid_scope": _REJECTED,
    "server_error": "return.login_provider_failed",
    "temporarily_unavailable": "return.login_provider_unavailable",
    # OpenID Connect Core §3.1.2.6
    "interaction_required": _NOT_COMPLETED,
    "login_required": _NOT_COMPLETED,
    "account_selection_required": _NOT_COMPLETED,
    "consent_required": _NOT_COMPLETED,
    "invalid_request_uri": _REJECTED,
    "invalid_request_object": _REJECTED,
    "request_not_supported": _REJECTED,
    "request_uri_not_supported": _REJECTED,
    "registration_not_supported": _REJECTED,
}
UNKNOWN_PROVIDER_ERROR: Final = "return.login_provider_error"


def provider_error(code: str | None) -> TransferError:
    """The error a provider's error answer ends the transfer with: its catalogue text and a log code of ours
    (never the provider's text)."""
    if code == "access_denied":  # the student declined at the provider: a cancel, not a failure
        return LoginCancelled()
    if code in PROVIDER_ERRORS:
        return ProviderReportedError(f"provider_{code}", message_key=PROVIDER_ERRORS[code])
    return ProviderReportedError("provider_unknown_error", message_key=UNKNOWN_PROVIDER_ERROR)
