"""The signer as a faulty dependency: whatever it answers, the client receives either a checked, signed document
(NCP_OK) or NCP_ERROR, never a document the gateway has not verified against the node's active certificate."""

import anyio
import httpx
import pytest

import emrex_elmo
from emrex_cli.devpki import make_ca, make_signing_key


class FakeSigner(httpx.AsyncBaseTransport):
    """Passes certificate listings to the real signer and answers /v1/sign as the test says."""

    def __init__(self, real: httpx.AsyncBaseTransport, answer) -> None:
        self.real = real
        self.answer = answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/sign":
            return await self.real.handle_async_request(request)
        return await self.answer(request, self.real)


async def garbage(request, real):
    return httpx.Response(200, content=b"not xml at all", headers={"content-type": "application/xml"})


async def empty(request, real):
    return httpx.Response(200, content=b"")


async def unsigned(request, real):
    return httpx.Response(200, content=await request.aread(), headers={"content-type": "application/xml"})


async def server_error(request, real):
    return httpx.Response(503, json={"title": "down"})


async def refused(request, real):
    raise httpx.ConnectError("connection refused", request=request)


async def other_content(request, real):
    """A valid signature by the node's key, over something else (a compromised or confused signer)."""
    original = await request.aread()
    body = original.replace(b"Virtanen", b"Virtanem")
    assert body != original
    return await real.handle_async_request(httpx.Request("POST", request.url, headers=request.headers,
                                                         content=body))


OTHER_KEY = make_signing_key(make_ca(bits=2048), "someone-else", bits=2048)


async def foreign_key(request, real):
    from lxml import etree
    from signxml import XMLSigner  # a well-formed enveloped signature, by a key the node does not hold

    document = await request.aread()
    signed = XMLSigner(c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315").sign(
        etree.fromstring(document), key=OTHER_KEY.key_pem(), cert=OTHER_KEY.cert_pem().decode())
    return httpx.Response(200, content=etree.tostring(signed, xml_declaration=True, encoding="UTF-8"))


@pytest.mark.parametrize("answer", [garbage, empty, unsigned, server_error, refused, other_content, foreign_key])
async def test_every_signer_fault_reaches_the_client_as_ncp_error(make_browser, upstreams, kit, gateway_settings,
                                                                  answer):
    fake = FakeSigner(upstreams["signer"], answer)
    async with make_browser(transports={"signer": fake}, http_timeout_seconds=1.0) as b:
        await b.login("demo-learner-1")
        await b.submit(keys=["r2.0"])
        with anyio.fail_after(20):
            handoff = kit.handoff_of(await b.send())
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert handoff.fields["elmo"] == ""
        assert handoff.fields["sessionId"] == "emc-session-1"


async def test_the_real_signer_still_gives_ncp_ok_with_the_check(browser, kit, secret_files):
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r2.0"])
    handoff = kit.handoff_of(await browser.send())
    assert handoff.fields["returnCode"] == "NCP_OK"
    emrex_elmo.verify(emrex_elmo.transport.decode(handoff.fields["elmo"]),
                      emrex_elmo.load_certificates(secret_files.signing_cert.read_bytes()))


async def test_a_signer_that_accepts_and_never_answers_gives_ncp_error_within_the_timeout(make_browser, kit,
                                                                                          silent_port):
    """A real socket that takes the request and says nothing: the configured timeout ends the wait."""
    async with make_browser(transports={"signer": None}, signer_url=f"http://127.0.0.1:{silent_port}",
                            http_timeout_seconds=1.0) as b:
        await b.login("demo-learner-1")
        with anyio.fail_after(15):  # the first call to the signer: the transcript PDF, before the preview
            handoff = kit.handoff_of(await b.submit(keys=["r2.0"]))
        assert handoff.fields["returnCode"] == "NCP_ERROR"
        assert handoff.fields["elmo"] == ""
