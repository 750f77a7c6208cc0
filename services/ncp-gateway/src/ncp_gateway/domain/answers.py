"""The one table from a transfer error to what the client and the student receive.

A `HandOff` ends the transfer: the client gets the return code (NCP_* or EMP_*) and the catalogue text as
returnMessage, in the student's language. A `Page` refuses one request with an error page; the transfer goes on.
"""

from dataclasses import dataclass
from typing import Final

from . import errors as e
from .return_codes import Outcome


@dataclass(frozen=True)
class HandOff:
    outcome: Outcome
    message_key: str


@dataclass(frozen=True)
class Page:
    message_key: str
    status: int
    keeps_transfer: bool = True  # the page keeps Continue and Cancel for the transfer


Answer = HandOff | Page

ANSWERS: Final[dict[type[e.TransferError], Answer]] = {
    e.SessionExpired: HandOff(Outcome.ERROR, "return.session_expired"),
    e.Cancelled: HandOff(Outcome.CANCEL, "return.cancel"),
    e.LoginCancelled: HandOff(Outcome.CANCEL, "return.login_cancel"),
    e.LoginFailed: HandOff(Outcome.ERROR, "return.login_failed"),
    e.LoginUnavailable: HandOff(Outcome.ERROR, "return.login_unavailable"),
    e.ProviderReportedError: HandOff(Outcome.ERROR, "return.login_provider_error"),
    e.ResultsUnavailable: HandOff(Outcome.ERROR, "return.results_unavailable"),
    e.ResultsRefused: HandOff(Outcome.ERROR, "return.results_refused"),
    e.NoResults: HandOff(Outcome.NO_RESULTS, "return.no_results"),
    e.DocumentInvalid: HandOff(Outcome.ERROR, "return.document_invalid"),
    e.SigningFailed: HandOff(Outcome.ERROR, "return.signing_failed"),
    e.Unexpected: HandOff(Outcome.ERROR, "return.unexpected"),
    e.TransferError: HandOff(Outcome.ERROR, "return.unexpected"),
    e.TransferNotFound: Page("error.no_session", 400, keeps_transfer=False),
    e.AlreadyEnded: Page("error.no_session", 400, keeps_transfer=False),
    e.TransferAmbiguous: Page("error.which_transfer", 409, keeps_transfer=False),
    e.WrongStep: Page("error.wrong_step", 409),
    e.FormRejected: Page("error.csrf", 403),
}


def answer_for(error: e.TransferError) -> tuple[Answer, str]:
    """The table's answer for the error's type (its nearest listed base), and the catalogue key to use."""
    for kind in type(error).__mro__:
        answer = ANSWERS.get(kind)
        if answer is not None:
            return answer, error.message_key or answer.message_key
    raise LookupError(type(error).__name__)  # unreachable: TransferError itself is listed
