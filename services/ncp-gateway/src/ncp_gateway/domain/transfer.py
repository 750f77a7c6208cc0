"""One student's transfer, as kept in the server-side session store between requests.

Stages: entered -> login (authorization request sent) -> selecting (results fetched) -> previewed
(the unsigned document frozen) -> handed off (the session is deleted).
"""

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel

from emrex_elmo import Elmo


class Stage(StrEnum):
    ENTERED = "entered"
    LOGIN = "login"
    SELECTING = "selecting"
    PREVIEWED = "previewed"


class Kind(StrEnum):
    EMREX = "emrex"  # a client system sent the student: the results go back to it
    DOWNLOAD = "download"  # the student came to the node directly (/my-results): the results are downloaded


class OidcRequest(BaseModel):
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


class Emrex2Request(BaseModel):
    """How an EMREX 2.0 transfer came in (GET /oauth2/authorize) and so how it leaves (a redirect with a code)."""

    client_id: str
    client_name: str | None = None
    redirect_uri: str
    state: str
    code_challenge: str
    scope: str


class Transfer(BaseModel):
    tid: str = ""  # the public id in this transfer's URLs and cookie name (several may run in one browser)
    session_id: str  # the EMC's sessionId, echoed byte for byte
    return_url: str
    receiver_origin: str
    receiver_host: str
    allow_to_pick_courses: bool = True
    allow_not_passed_courses: bool = False
    hei_id: str | None = None
    stage: Stage = Stage.ENTERED
    kind: Kind = Kind.EMREX
    created_at: dt.datetime
    expires_at: dt.datetime
    csrf: str
    oidc: OidcRequest | None = None
    pseudonym: str | None = None
    results: Elmo | None = None
    warnings: list[str] = []
    selected: list[str] = []
    prepared_xml: str | None = None  # the unsigned ELMO exactly as it will be signed
    emrex2: Emrex2Request | None = None  # None: an EMREX 1 transfer (POST /emrex)
    trace_context: str | None = None  # W3C traceparent of the entry: every later step continues its trace

    @property
    def after_login(self) -> str:
        """Where the student goes once logged in and the results are fetched."""
        return ("/my-results" if self.kind is Kind.DOWNLOAD else "/select") + f"?t={self.tid}"

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at

    def seconds_left(self, now: dt.datetime) -> int:
        return max(0, int((self.expires_at - now).total_seconds()))
