"""The transfer's error vocabulary: one type per way a transfer can end early or a request can be refused.

Each carries a stable `code` for the log (ours, never a provider's or a request's text). What the client and
the student receive for each type is decided in one place, `answers.ANSWERS`.
"""

from typing import ClassVar


class TransferError(Exception):
    code: ClassVar[str] = "transfer_error"

    def __init__(self, code: str | None = None, reason: str | None = None, *, message_key: str | None = None) -> None:
        super().__init__(reason or code or self.code)
        self.log_code = code or self.code
        # Short and fixed by our code (a check's or a status's name): catalogue texts may show it as {reason}.
        self.reason = reason or self.log_code
        self.message_key = message_key  # a catalogue text that replaces the table's (provider error codes)

    @property
    def message(self) -> str:
        return self.reason


# ---- the transfer ends: the client hears back -----------------------------------------------------


class SessionExpired(TransferError):
    code = "session_expired"


class Cancelled(TransferError):
    code = "cancelled"


class LoginCancelled(TransferError):
    """The student declined at the provider (error=access_denied)."""

    code = "provider_access_denied"


class LoginFailed(TransferError):
    """The login cannot be completed: a bad answer, a refused code, an ID token that fails a check."""

    code = "login_failed"


class LoginUnavailable(LoginFailed):
    """The provider did not answer (down, refusing connections, timing out, answering 5xx)."""

    code = "provider_unavailable"


class ProviderReportedError(LoginFailed):
    """The provider answered the login with an error code; `message_key` is the catalogue text for it."""

    code = "provider_error"


class ResultsUnavailable(TransferError):
    """The sis-adapter (or every institution behind it) could not be reached."""

    code = "sis_unavailable"


class ResultsRefused(TransferError):
    code = "sis_rejected"


class NoResults(TransferError):
    code = "no_results"


class DocumentInvalid(TransferError):
    """The chosen results could not be made into a valid ELMO document."""

    code = "document_invalid"


class SigningFailed(TransferError):
    """The signer is down, refused, or answered a document that fails the check before hand-off."""

    code = "signing_failed"


class Unexpected(TransferError):
    """Anything else after a valid entry (a bug, a database failing, a contract broken)."""

    code = "unexpected"


# ---- the request is refused: an error page, the transfer (if any) goes on -------------------------


class TransferNotFound(TransferError):
    code = "no_session"


class TransferAmbiguous(TransferError):
    """Several transfers in this browser and the request does not say which."""

    code = "which_transfer"


class WrongStep(TransferError):
    code = "wrong_step"


class FormRejected(TransferError):
    """The form's CSRF token is missing or wrong."""

    code = "csrf"


class AlreadyEnded(TransferNotFound):
    """Another request (a double click, another replica) ended this transfer first."""

    code = "already_ended"
