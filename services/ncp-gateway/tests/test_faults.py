"""Faults after a valid entry (a dependency answering nonsense, the database failing at a write, a template
failing) all end in the client's NCP_ERROR hand-off, with one error id that is logged and shown; before a valid
entry, in the HTML error page. Never JSON, never a bare 500 without an id."""

import logging
import re

import httpx
import pytest
from fastapi.templating import Jinja2Templates

from ncp_gateway.adapters.store import SessionStore


class Boom(RuntimeError):
    pass


def error_id_logged(caplog) -> str:
    [record] = [r for r in caplog.records if r.getMessage() == "unexpected error"]
    return record.error_id


def assert_ncp_error_with_the_logged_id(kit, response, caplog) -> None:
    handoff = kit.handoff_of(response)
    assert handoff.fields["returnCode"] == "NCP_ERROR"
    assert handoff.fields["elmo"] == ""
    error_id = error_id_logged(caplog)
    assert re.fullmatch(r"[0-9a-f]{12}", error_id)
    assert f"reference {error_id}" in handoff.fields["returnMessage"]
    assert f"Reference: {error_id}" in response.text  # the student sees the same id


class WrongBody(httpx.AsyncBaseTransport):
    """A SIS adapter that answers 200 with a body that is not the contract's."""

    def __init__(self, real: httpx.AsyncBaseTransport) -> None:
        self.real = real

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/v1/results"):
            return httpx.Response(200, json={"reports": "not a list", "status": 7})
        return await self.real.handle_async_request(request)


async def test_sis_answering_200_with_a_wrong_body_gives_ncp_error(make_browser, upstreams, kit, caplog):
    caplog.set_level(logging.INFO)
    async with make_browser(transports={"sis": WrongBody(upstreams["sis"])}, raise_app_exceptions=False) as b:
        assert_ncp_error_with_the_logged_id(kit, await b.login("demo-learner-1"), caplog)


@pytest.mark.parametrize(("method", "step"), [
    ("rotate", "callback"), ("put", "select"), ("delete", "send"), ("add_audit", "send"), ("put", "login"),
])
async def test_the_database_failing_at_each_write_gives_ncp_error(make_browser, kit, caplog, monkeypatch, method,
                                                                  step):
    caplog.set_level(logging.INFO)
    async with make_browser(raise_app_exceptions=False) as b:
        original = getattr(SessionStore, method)

        async def failing(self, *args, **kwargs):
            raise Boom("database down")

        if step == "login":
            entry = await b.enter()
            monkeypatch.setattr(SessionStore, method, failing)
            response = await b.http.get(entry.headers["location"])
        elif step == "callback":
            await b.start_login()
            monkeypatch.setattr(SessionStore, method, failing)
            response = await b.callback(await b.provider_login("demo-learner-1"))
        elif step == "select":
            await b.login("demo-learner-1")
            monkeypatch.setattr(SessionStore, method, failing)
            response = await b.submit(keys=["r2.0"])
        else:
            await b.login("demo-learner-1")
            await b.submit(keys=["r2.0"])
            page = await b.http.get("/preview")
            csrf = kit.form_fields(page.text, "//form[@action='/send']")["csrf"][0]
            monkeypatch.setattr(SessionStore, method, failing)
            response = await b.http.post("/send", data={"csrf": csrf, "consent": "yes"})
        assert_ncp_error_with_the_logged_id(kit, response, caplog)
        monkeypatch.setattr(SessionStore, method, original)


async def test_a_failing_template_gives_ncp_error(make_browser, kit, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    original = Jinja2Templates.TemplateResponse

    def failing(self, request, name, *args, **kwargs):
        if name == "select.html":
            raise Boom("template broken")
        return original(self, request, name, *args, **kwargs)

    async with make_browser(raise_app_exceptions=False) as b:
        await b.login("demo-learner-1")
        monkeypatch.setattr(Jinja2Templates, "TemplateResponse", failing)
        assert_ncp_error_with_the_logged_id(kit, await b.http.get("/select"), caplog)


async def test_before_a_valid_entry_a_failure_is_the_html_error_page_with_its_id(make_browser, caplog, monkeypatch):
    caplog.set_level(logging.INFO)

    async def failing(self, *args, **kwargs):
        raise Boom("database down")

    async with make_browser(raise_app_exceptions=False) as b:
        monkeypatch.setattr(SessionStore, "put_new", failing)  # the entry's write
        response = await b.enter()
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        assert f"Reference: {error_id_logged(caplog)}" in response.text


async def test_when_even_the_error_page_fails_the_answer_is_still_html_with_the_id(make_browser, caplog,
                                                                                    monkeypatch):
    caplog.set_level(logging.INFO)

    async def failing(self, *args, **kwargs):
        raise Boom("database down")

    def broken(self, *args, **kwargs):
        raise Boom("templates broken")

    async with make_browser(raise_app_exceptions=False) as b:
        monkeypatch.setattr(SessionStore, "put_new", failing)  # the entry's write
        monkeypatch.setattr(Jinja2Templates, "TemplateResponse", broken)
        response = await b.enter()
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("text/html")
        assert error_id_logged(caplog) in response.text
