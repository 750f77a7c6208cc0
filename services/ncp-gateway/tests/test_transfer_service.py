"""The transfer service on its own (no web, no network, no database): each step's decision through small fakes
of its ports, time moved on a clock, and the one table that says what each error gives the client."""

import datetime as dt
from dataclasses import dataclass, field

import pytest

from emrex_elmo import Learner
from ncp_gateway.domain import errors as e
from ncp_gateway.domain.answers import ANSWERS, HandOff, Page, answer_for
from ncp_gateway.domain.flow import CallbackAnswer, FetchedResults, TransferService
from ncp_gateway.domain.return_codes import Outcome
from ncp_gateway.domain.transfer import OidcRequest, Stage, Transfer
from ncp_gateway.messages import CATALOG


class Clock:
    def __init__(self) -> None:
        self.at = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.at


@dataclass
class Idp:
    issuer: str = "https://op.example.test"
    claims: dict = field(default_factory=lambda: {"sub": "learner-1"})
    exchanged: list = field(default_factory=list)

    def new_request_values(self):
        return "state-1", "nonce-1", "verifier-1"

    async def authorization_url(self, **kwargs):
        return "https://op.example.test/authorize?state=state-1"

    async def exchange(self, **kwargs):
        self.exchanged.append(kwargs)
        return self.claims


@dataclass
class Results:
    answer: FetchedResults | Exception

    async def fetch(self, claims, *, include_not_passed):
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@dataclass
class Records:
    rows: dict = field(default_factory=dict)

    async def put(self, token, transfer):
        self.rows[token] = transfer

    async def rotate(self, old, new, transfer):
        self.rows.pop(old, None)
        self.rows[new] = transfer

    async def delete(self, token):
        return self.rows.pop(token, None) is not None


class Signer:
    async def sign(self, document):
        raise e.SigningFailed("signer_unavailable")

    async def sign_pdf(self, pdf):
        raise e.SigningFailed("signer_unavailable")

    async def active_certificates(self, *, refresh=False):
        return []


def in_login(clock: Clock) -> Transfer:
    now = clock.now()
    return Transfer(tid="t" * 16, session_id="s", return_url="https://emc.example.fi/r",
                    receiver_origin="https://emc.example.fi", receiver_host="emc.example.fi", created_at=now,
                    expires_at=now + dt.timedelta(minutes=20), csrf="c", stage=Stage.LOGIN,
                    oidc=OidcRequest(state="state-1", nonce="nonce-1", code_verifier="v", redirect_uri="https://g/cb"))


def answer(**kw) -> CallbackAnswer:
    return CallbackAnswer(**{"iss": None, "error": None, "has_error": False, "code": "code-1", **kw})


def test_every_error_type_has_an_answer_and_every_text_is_translated():
    kinds = set()
    stack = [e.TransferError]
    while stack:
        kind = stack.pop()
        kinds.add(kind)
        stack.extend(kind.__subclasses__())
    assert kinds <= set(ANSWERS), kinds - set(ANSWERS)
    for kind in kinds:
        listed, key = answer_for(kind())
        assert set(CATALOG[key]) == {"en", "de"}
        if isinstance(listed, HandOff):
            assert key.startswith("return.")
        else:
            assert isinstance(listed, Page)
            assert key.startswith("error.")


@pytest.mark.parametrize(("error", "outcome"), [
    (e.SessionExpired(), Outcome.ERROR), (e.Cancelled(), Outcome.CANCEL), (e.LoginCancelled(), Outcome.CANCEL),
    (e.NoResults(), Outcome.NO_RESULTS), (e.LoginUnavailable(), Outcome.ERROR), (e.SigningFailed(), Outcome.ERROR),
    (e.ResultsUnavailable(), Outcome.ERROR), (e.Unexpected(), Outcome.ERROR),
])
def test_the_table_gives_each_ending_its_return_code(error, outcome):
    listed, _ = answer_for(error)
    assert isinstance(listed, HandOff)
    assert listed.outcome is outcome


def test_a_provider_error_code_picks_its_catalogue_text():
    from ncp_gateway.domain.provider_errors import provider_error

    assert answer_for(provider_error("temporarily_unavailable"))[1] == "return.login_provider_unavailable"
    assert answer_for(provider_error("made-up"))[1] == "return.login_provider_error"
    assert isinstance(provider_error("access_denied"), e.LoginCancelled)


def test_expiry_follows_the_clock_not_the_wall():
    flow = service_without_results()
    transfer = in_login(flow.clock)
    flow.check(transfer, {Stage.LOGIN})
    flow.clock.at += dt.timedelta(minutes=19, seconds=59)
    flow.check(transfer, {Stage.LOGIN})
    flow.clock.at += dt.timedelta(seconds=1)
    with pytest.raises(e.SessionExpired):
        flow.check(transfer, {Stage.LOGIN})


def test_a_step_out_of_order_is_refused():
    flow = service_without_results()
    with pytest.raises(e.WrongStep):
        flow.check(in_login(flow.clock), {Stage.PREVIEWED})


def service_without_results(results: FetchedResults | Exception | None = None) -> TransferService:
    return TransferService(idp=Idp(), results=Results(results or e.ResultsUnavailable()), signer=Signer(),
                           records=Records(), clock=Clock(), pseudonym_key=b"k",
                           render_transcript=lambda _: b"%PDF", new_token=lambda: "new-token")


@pytest.mark.parametrize(("callback", "error", "code"), [
    ({"iss": "https://evil.example.test"}, e.LoginFailed, "issuer_mismatch"),
    ({"code": None}, e.LoginFailed, "code_missing"),
    ({"has_error": True, "error": "access_denied"}, e.LoginCancelled, "provider_access_denied"),
    ({"has_error": True, "error": "server_error"}, e.ProviderReportedError, "provider_server_error"),
])
async def test_the_callback_is_checked_before_any_code_is_exchanged(callback, error, code):
    flow = service_without_results()
    with pytest.raises(error) as raised:
        await flow.finish_login("token", in_login(flow.clock), answer(**callback))
    assert raised.value.log_code == code
    assert flow.idp.exchanged == []  # type: ignore[attr-defined]


async def test_no_results_because_institutions_did_not_answer_is_an_error_not_no_results():
    learner = Learner(given_names="A", family_name="B")
    partial = FetchedResults(learner=learner, reports=[], no_results=True, unreachable_institutions=["x"])
    flow = service_without_results(partial)
    with pytest.raises(e.ResultsUnavailable):
        await flow.finish_login("token", in_login(flow.clock), answer())
    flow = service_without_results(FetchedResults(learner=learner, reports=[], no_results=True))
    with pytest.raises(e.NoResults):
        await flow.finish_login("token", in_login(flow.clock), answer())


async def test_send_claims_the_transfer_once():
    flow = service_without_results()
    transfer = in_login(flow.clock)
    transfer.stage, transfer.prepared_xml = Stage.PREVIEWED, "<elmo/>"
    with pytest.raises(e.AlreadyEnded):
        await flow.send("not-stored", transfer)
    await flow.records.put("token", transfer)
    with pytest.raises(e.SigningFailed):  # claimed, then the signer fails
        await flow.send("token", transfer)
    with pytest.raises(e.AlreadyEnded):  # a double click finds it gone
        await flow.send("token", transfer)
