"""The four services as real uvicorn processes on loopback, a real OpenID provider as a process (the PyPI
oidc-provider-mock, and the npm oidc-provider when Node.js is present), and a test receiver (EMC) that gets
the browser's POST; the ELMO is checked against the XSD and with xmlsec1."""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

import emrex_elmo
import ncp_testkit.stack
from emrex_elmo import transport
from ncp_gateway.domain.results_view import pick_title
from ncp_testkit import serve_on_loopback

pytestmark = pytest.mark.e2e


class Receiver:
    """A minimal EMC: records what the student's browser posts to the returnUrl."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.content_types: list[str] = []

        async def receive(request: Request) -> PlainTextResponse:
            self.content_types.append(request.headers.get("content-type", ""))
            form = await request.form()
            self.received.append({k: str(v) for k, v in form.items()})
            return PlainTextResponse("thanks")

        self.app = Starlette(routes=[Route("/emrex/return", receive, methods=["POST"])])

    @contextmanager
    def serving(self) -> Iterator[str]:
        with serve_on_loopback(self.app, lifespan="off") as base:
            yield f"{base}/emrex/return"


@pytest.fixture(scope="module", params=["oidc-provider-mock", "npm-oidc-provider"])
def stack(request, tmp_path_factory):
    """The stack with the PyPI provider, and again with the npm oidc-provider when Node.js is present."""
    module = ncp_testkit.stack
    if request.param == "npm-oidc-provider":
        node_dir = module.node_provider_dir()
        if node_dir is None:
            pytest.skip("Node.js/npm not present or the npm registry not reachable: npm oidc-provider not run")
        with module.running_stack(tmp_path_factory.mktemp("e2e-node"), provider="node", node_dir=node_dir) as running:
            yield module, running, "node"
    else:
        with module.running_stack(tmp_path_factory.mktemp("e2e")) as running:
            yield module, running, "mock"


def leaf_titles(elmo) -> set[str]:
    return {pick_title(los.titles, "en") for _, los, _ in elmo.iter_los() if not los.has_part}


async def test_two_institutions_arrive_signed_valid_and_exactly_as_chosen(stack, tmp_path):
    module, running, kind = stack
    receiver = Receiver()
    with receiver.serving() as receiver_url:
        async with httpx.AsyncClient(timeout=30) as browser, httpx.AsyncClient(timeout=30) as provider:
            # Two courses of two institutions (Aurora: Linear Algebra; Rheinau: German A2).
            action, fields = await module.student_flow(browser, provider, running.gateway, receiver_url,
                                                       keys=["r0.1", "r2.1"], session_id="e2e-session-7",
                                                       provider_kind=kind)
            assert action == receiver_url
            delivered = await browser.post(action, data=fields)  # what the auto-submitting form does
            assert delivered.status_code == 200
    [posted] = receiver.received
    assert receiver.content_types == ["application/x-www-form-urlencoded"]
    assert posted["sessionId"] == "e2e-session-7"
    assert posted["returnCode"] == "NCP_OK"
    assert posted["returnMessage"] == ""
    signed = transport.decode(posted["elmo"])
    emrex_elmo.validate(signed, "1.7.0")
    elmo = emrex_elmo.from_xml(signed)
    assert [r.issuer.identifier("schac") for r in elmo.reports] == ["aurora.example.fi", "rheinau.example.de"]
    assert leaf_titles(elmo) == {"Linear Algebra and Matrices I", "German as a Foreign Language A2"}
    assert elmo.attachments[0].type == "EMREX transcript"
    if shutil.which("xmlsec1") is None:
        pytest.fail("xmlsec1 is not installed (scripts/ensure-system-deps.sh installs it)")
    document = tmp_path / "received.xml"
    document.write_bytes(signed)
    result = await anyio.run_process(
        ["xmlsec1", "--verify", "--pubkey-cert-pem", str(running.signer_cert), "--enabled-key-data", "rsa",
         "--enabled-reference-uris", "empty", str(document)], check=False,
    )
    assert result.returncode == 0, result.stderr.decode()


async def test_no_results_comes_back_as_ncp_no_results(stack):
    module, running, _ = stack
    async with httpx.AsyncClient(timeout=30) as browser, httpx.AsyncClient(timeout=30) as provider:
        entry = await browser.post(f"{running.gateway}/emrex",
                                   data={"sessionId": "nr", "returnUrl": "http://127.0.0.1:9/return"})
        login = await browser.get(running.gateway + entry.headers["location"])
        callback = await module.provider_login(provider, login.headers["location"], "demo-learner-empty",
                                               running.gateway)
        handoff = await browser.get(callback)
        _, fields = module.hidden_fields(handoff.text, "//form[@id='emrex']")
        assert fields["returnCode"] == ["NCP_NO_RESULTS"]
        assert fields["elmo"] == [""]
