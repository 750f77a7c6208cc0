"""Each point where the flow calls out (the sis-adapter, the OIDC provider at discovery, keys and token exchange,
the registry-cache at the receiver lookup), faulted: answering 5xx, refusing connections, or taking the request
and never answering. The client always receives the auto-POST with its sessionId and a return code, within the
configured timeout; never a bare 500, JSON or a hang."""

from collections.abc import Awaitable, Callable

import anyio
import httpx
import pytest

Answer = Callable[[httpx.Request], Awaitable[httpx.Response]]
TIMEOUT = 1.0  # NCP_GATEWAY_HTTP_TIMEOUT_SECONDS in these tests
DEADLINE = 15  # seconds: far below a hang, well above the timeout on a busy machine


class Faulty(httpx.AsyncBaseTransport):
    """Answers requests under `path` with `answer`; everything else goes to the real upstream."""

    def __init__(self, real: httpx.AsyncBaseTransport, path: str, answer: Answer) -> None:
        self.real, self.path, self.answer = real, path, answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(self.path):
            return await self.answer(request)
        return await self.real.handle_async_request(request)


def faults(silent_port: int) -> dict[str, Answer]:
    async def server_error(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"title": "Service Unavailable", "status": 503})

    async def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def hanging(request: httpx.Request) -> httpx.Response:
        # Over the real network, so the client's configured timeout (the request's extensions) is what ends it.
        async with httpx.AsyncHTTPTransport() as network:
            forwarded = httpx.Request(request.method, request.url.copy_with(scheme="http", host="127.0.0.1",
                                                                            port=silent_port),
                                      headers=request.headers, content=await request.aread(),
                                      extensions=request.extensions)
            return await network.handle_async_request(forwarded)

    return {"5xx": server_error, "refused": refused, "hanging": hanging}


FAULTS = ["5xx", "refused", "hanging"]


def assert_error_handoff(kit, response: httpx.Response) -> None:
    handoff = kit.handoff_of(response)  # an HTML page with the auto-POST form, status 200
    assert handoff.action == kit.RETURN_URL
    assert handoff.fields["sessionId"] == "emc-session-1"
    assert handoff.fields["returnCode"] == "NCP_ERROR"
    assert handoff.fields["elmo"] == ""
    assert handoff.fields["returnMessage"]


@pytest.mark.parametrize("fault", FAULTS)
async def test_sis_faults_reach_the_client_as_ncp_error(make_browser, upstreams, kit, silent_port, fault):
    sis = Faulty(upstreams["sis"], "/v1/results", faults(silent_port)[fault])
    async with make_browser(transports={"sis": sis}, http_timeout_seconds=TIMEOUT) as b:
        with anyio.fail_after(DEADLINE):
            response = await b.login("demo-learner-1")
        assert_error_handoff(kit, response)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("point", ["/.well-known/openid-configuration", "/jwks", "/token"])
async def test_provider_faults_reach_the_client_as_ncp_error(make_browser, handmade_op, kit, silent_port, point,
                                                             fault):
    provider = Faulty(httpx.ASGITransport(app=handmade_op.app()), point, faults(silent_port)[fault])
    async with make_browser(transports={"oidc": provider}, oidc_issuer=handmade_op.issuer,
                            http_timeout_seconds=TIMEOUT) as b:
        with anyio.fail_after(DEADLINE):
            entry = await b.enter()
            response = await b.http.get(entry.headers["location"])
            if point != "/.well-known/openid-configuration":  # discovery worked: on to the provider and back
                assert response.status_code == 302, response.text
                b.authorization_url = response.headers["location"]
                params = b.auth_params()
                handmade_op.codes["c"] = {"id_token": handmade_op.id_token(params["nonce"])}
                response = await b.callback(f"/login/callback?code=c&state={params['state']}")
        assert_error_handoff(kit, response)


async def test_the_handmade_provider_without_faults_logs_in(make_browser, handmade_op, kit):
    """The control for the cases above: the same provider, unfaulted, reaches the selection."""
    async with make_browser(transports={"oidc": httpx.ASGITransport(app=handmade_op.app())},
                            oidc_issuer=handmade_op.issuer) as b:
        await b.start_login()
        params = b.auth_params()
        handmade_op.codes["c"] = {"id_token": handmade_op.id_token(params["nonce"])}
        response = await b.callback(f"/login/callback?code=c&state={params['state']}")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/select?t=")


@pytest.mark.parametrize("fault", [*FAULTS, "wrong body"])
async def test_registry_faults_at_the_receiver_lookup_leave_the_flow_intact(make_browser, upstreams, kit,
                                                                            silent_port, fault):
    """The registry only adds the receiver's name to the consent page: without it the student still sees the
    host, consents, and the client receives NCP_OK."""

    async def wrong_body(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"emps": "not an entry"})

    answer = wrong_body if fault == "wrong body" else faults(silent_port)[fault]
    registry = Faulty(upstreams["registry"], "/v1/emps/lookup", answer)
    async with make_browser(transports={"registry": registry}, http_timeout_seconds=TIMEOUT) as b:
        await b.login("demo-learner-1")
        await b.submit(keys=["r2.0"])
        with anyio.fail_after(DEADLINE):
            preview = await b.http.get("/preview")
            assert preview.status_code == 200
            assert "emc.example.fi" in preview.text
            assert "operated for" not in preview.text
            handoff = kit.handoff_of(await b.send())
        assert handoff.fields["sessionId"] == "emc-session-1"
        assert handoff.fields["returnCode"] == "NCP_OK"
