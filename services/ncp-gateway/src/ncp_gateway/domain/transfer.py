"""One student's transfer, as kept in the server-side session store between requests.

Stages: entered -> login (authorization request sent) -> selecting (results fetched) -> previewed
(the unsigned document frozen) -> handed off (the session is deleted).
"""

import datetime as dt
import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, PrivateAttr, model_validator

from emrex_elmo import Elmo

from .recent import Recent

# Results read or written recently, by their JSON text: the login stores them, then the selection page and its
# submit read them, one after the other. The models are shared and only read (selection and preview build
# copies, never change them).
RESULTS_KEPT = 32
_recent_results: Recent[str, Elmo] = Recent(RESULTS_KEPT)


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
    results_json: str | None = None  # the fetched results (`results`), kept as JSON text: see `results`
    warnings: list[str] = []
    selected: list[str] = []
    prepared_xml: str | None = None  # the unsigned ELMO exactly as it will be signed
    prepared_c14n_sha256: str | None = None  # its canonical form's digest (signed_check.canonical_sha256)
    emrex2: Emrex2Request | None = None  # None: an EMREX 1 transfer (POST /emrex)
    trace_context: str | None = None  # W3C traceparent of the entry: every later step continues its trace
    _results: Elmo | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _results_as_json(cls, data: Any) -> Any:
        """`results=` (an Elmo, or the object that records stored before `results_json` held) as its JSON text."""
        if isinstance(data, dict) and "results" in data:
            data = dict(data)
            results = data.pop("results")
            if results is not None:
                data["results_json"] = (results.model_dump_json() if isinstance(results, Elmo)
                                        else json.dumps(results))
        return data

    @property
    def results(self) -> Elmo | None:
        """The fetched results, read from `results_json` once per loaded record and only by the steps that use
        them: a record is loaded on every request of a flow, and validating the whole ELMO model each time cost
        more than any other part of loading it (preview and send read only the prepared document). Shared with
        other loads of the same text (_recent_results), and with the model assigned: never change it in place;
        assign a new one."""
        if self._results is None and self.results_json is not None:
            self._results = _recent_results.get(self.results_json)
            if self._results is None:
                self._results = Elmo.model_validate_json(self.results_json)
                _recent_results.put(self.results_json, self._results)
        return self._results

    @results.setter
    def results(self, value: Elmo | None) -> None:
        self._results = value
        if value is None:
            self.results_json = None
            return
        self.results_json = text = value.model_dump_json()
        # What the text reads as (pydantic reads its own dump back as an equal model): the next steps, often in
        # this process, read it without validating the text again.
        _recent_results.put(text, value)

    @property
    def after_login(self) -> str:
        """Where the student goes once logged in and the results are fetched."""
        return ("/my-results" if self.kind is Kind.DOWNLOAD else "/select") + f"?t={self.tid}"

    def expired(self, now: dt.datetime) -> bool:
        return now >= self.expires_at

    def seconds_left(self, now: dt.datetime) -> int:
        return max(0, int((self.expires_at - now).total_seconds()))
