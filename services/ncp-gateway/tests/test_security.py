"""CSRF on every form, security headers, session cookies, health endpoints, two replicas on one database."""

import httpx
import lxml.html
import pytest
from asgi_lifespan import LifespanManager

from ncp_gateway.app import create_app


async def test_every_form_carries_a_csrf_token(browser):
    await browser.login("demo-learner-1")
    pages = [await browser.selection()]
    await browser.submit(keys=["r2.0"])
    pages.append(await browser.http.get("/preview"))
    for page in pages:
        for form in lxml.html.fromstring(page.text).xpath("//form"):
            assert form.get("method") == "post"
            assert form.xpath(".//input[@name='csrf' and @type='hidden']/@value")[0]


@pytest.mark.parametrize(("path", "data"), [
    ("/select", {"action": "preview", "los": "r2.0"}),
    ("/cancel", {}),
    ("/send", {"consent": "yes"}),
])
@pytest.mark.parametrize("token", [None, "wrong"])
async def test_forms_without_the_right_csrf_token_are_refused(browser, path, data, token):
    await browser.login("demo-learner-1")
    if path == "/send":
        await browser.submit(keys=["r2.0"])
    if token:
        data = {**data, "csrf": token}
    response = await browser.http.post(path, data=data)
    assert response.status_code == 403
    assert 'id="emrex"' not in response.text
    # The transfer goes on.
    assert (await browser.http.get("/preview" if path == "/send" else "/select")).status_code == 200


async def test_security_headers_on_pages(browser):
    await browser.login("demo-learner-1")
    page = await browser.selection()
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "form-action 'self'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store"
    error = await browser.http.post("/emrex", data={})
    assert error.headers["x-frame-options"] == "DENY"


async def test_preview_xml_is_sandboxed(browser):
    await browser.login("demo-learner-1")
    await browser.submit(keys=["r2.0"])
    xml = await browser.http.get("/preview.xml")
    assert "sandbox" in xml.headers["content-security-policy"]
    assert xml.content.startswith(b"<?xml")


async def test_tampered_cookie_is_no_session(browser, kit):
    await browser.login("demo-learner-1")
    name, value = next((c.name, c.value) for c in browser.http.cookies.jar if c.name.startswith("__Host-ncp_t_"))
    token, _, signature = value.rpartition(".")
    async with httpx.AsyncClient(transport=browser.http._transport, base_url=kit.GATEWAY_URL) as other:
        other.cookies.set(name, f"{token}x.{signature}")
        assert (await other.get("/select")).status_code == 400
        assert (await other.get(f"/select?t={name.removeprefix('__Host-ncp_t_')}")).status_code == 400


async def test_pages_without_a_session_show_an_error_page(browser):
    for path in ("/login", "/select", "/preview", "/preview.xml"):
        response = await browser.http.get(path)
        assert response.status_code == 400, path
        assert response.headers["content-type"].startswith("text/html")
    assert (await browser.http.post("/cancel", data={"csrf": "x"})).status_code == 400


async def test_a_step_out_of_order_is_refused_without_ending_the_transfer(browser):
    await browser.login("demo-learner-1")
    assert (await browser.http.get("/preview")).status_code == 409
    assert (await browser.http.get("/login")).status_code == 409
    assert (await browser.selection()).status_code == 200


async def test_unknown_path_is_problem_json(browser):
    response = await browser.http.get("/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_health_and_readiness(browser, make_browser, kit):
    assert (await browser.http.get("/healthz")).json() == {"status": "ok"}
    ready = await browser.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "oidc": "ok", "signer": "ok", "sis": "ok", "registry": "ok"}
    async with make_browser(transports={"signer": kit.FailingTransport(), "registry": kit.FailingTransport()}) as b:
        ready = await b.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["signer"].startswith("unreachable")
    async with make_browser(transports={"registry": kit.FailingTransport()}) as b:
        ready = await b.http.get("/readyz")
        assert ready.status_code == 200, ready.text  # the registry is optional
    async with make_browser(transports={"oidc": kit.FailingTransport()}) as b:
        ready = await b.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["oidc"] == "unreachable (ConnectError)"


async def test_readiness_names_a_provider_that_claims_another_issuer(make_browser, handmade_op):
    handmade_op.discovery_issuer = "https://op.example.test/other"
    async with make_browser(op=handmade_op) as b:
        ready = await b.http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["oidc"] == "error: discovery names another issuer"


class RoundRobin(httpx.AsyncBaseTransport):
    """A load balancer without sticky sessions: request n goes to replica n mod 2."""

    def __init__(self, *replicas: httpx.AsyncBaseTransport) -> None:
        self.replicas = replicas
        self.served: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = len(self.served) % len(self.replicas)
        self.served.append(index)
        return await self.replicas[index].handle_async_request(request)


async def test_two_instances_sharing_one_database_serve_one_transfer(upstreams, gateway_settings, kit):
    """Replicas behind a load balancer without sticky sessions: consecutive steps land on different ones."""
    apps = [create_app(gateway_settings, transports=upstreams) for _ in range(2)]
    async with LifespanManager(apps[0]) as one, LifespanManager(apps[1]) as two:
        balancer = RoundRobin(httpx.ASGITransport(app=one.app), httpx.ASGITransport(app=two.app))
        async with httpx.AsyncClient(transport=balancer, base_url=kit.GATEWAY_URL) as http:
            entry = await http.post("/emrex", data={"sessionId": "two", "returnUrl": kit.RETURN_URL})
            login = await http.get(entry.headers["location"])
            assert login.status_code == 302
            async with httpx.AsyncClient() as op:
                answer = await op.post(login.headers["location"], data={"sub": "demo-learner-1"})
            callback = await http.get(answer.headers["location"].removeprefix(kit.GATEWAY_URL))
            assert callback.status_code == 303, callback.text
            page = await http.get("/select")
            csrf = kit.form_fields(page.text, "//form[@id='selection']")["csrf"][0]
            chosen = await http.post("/select", data={"csrf": csrf, "shown": ["r2.0"], "los": ["r2.0"],
                                                      "action": "preview"})
            assert chosen.status_code == 303
            assert (await http.get("/preview")).status_code == 200
            sent = await http.post("/send", data={"csrf": csrf, "consent": "yes"})
            assert kit.handoff_of(sent).fields["returnCode"] == "NCP_OK"
            assert (await http.get("/preview")).status_code == 400  # invalidated for every replica
            assert (await http.get("/preview")).status_code == 400
        assert balancer.served[:4] == [0, 1, 0, 1]


async def test_error_pages_within_a_transfer_keep_cancel(browser, kit):
    await browser.login("demo-learner-1")
    refused = await browser.http.post("/select", data={"csrf": "wrong", "action": "preview"})
    assert refused.status_code == 403
    csrf = kit.form_fields(refused.text, "//form[@action='/cancel']")["csrf"][0]
    handoff = kit.handoff_of(await browser.http.post("/cancel", data={"csrf": csrf}))
    assert handoff.fields["returnCode"] == "NCP_CANCEL"
