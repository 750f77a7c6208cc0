"""An unhandled error is answered with an error id that matches exactly one log line, which also holds the
request id and the traceback, and no value from the request."""

import io
import json
import logging

import httpx
import pytest
from fastapi import FastAPI

from ncp_contracts.text import RequestModel
from ncp_runtime import RequestIdMiddleware, Utf8UrlMiddleware, configure_logging, install_problem_handlers
from ncp_runtime.context import mark_logged
from ncp_runtime.logging import JsonFormatter

SECRET = "140301A1075"  # stands for a national identifier: it must never reach the log


class Query(RequestModel):
    learner_id: str


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(Utf8UrlMiddleware)
    app.add_middleware(RequestIdMiddleware)

    @app.post("/crash")
    async def crash(query: Query) -> dict[str, str]:
        registry: dict[str, str] = {}
        return {"found": registry[query.learner_id]}  # KeyError naming the identifier

    @app.get("/echo")
    async def echo(q: str) -> dict[str, str]:
        return {"q": q}

    return app


@pytest.fixture
def log_lines():
    configure_logging("test-service", "INFO")
    root = logging.getLogger()
    handler = next(h for h in root.handlers if isinstance(h.formatter, JsonFormatter))
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    handler.setStream(buffer)

    def read() -> list[dict[str, object]]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield read
    root.removeHandler(handler)


def client(app: FastAPI) -> httpx.AsyncClient:
    # As a real server does: the app's exception is answered, not raised into the caller.
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://test")


async def test_a_500_can_be_matched_to_its_one_log_line(log_lines):
    async with client(make_app()) as http:
        response = await http.post("/crash", json={"learner_id": SECRET}, headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"] == "req-42"
    error_id = response.json()["error_id"]
    assert "Traceback" not in response.text
    assert SECRET not in response.text
    lines = log_lines()
    matching = [line for line in lines if line.get("error_id") == error_id]
    assert len(matching) == 1, lines  # logged once, with the id the caller saw
    [line] = matching
    assert line["level"] == "error"
    assert line["request_id"] == "req-42"
    assert line["exc_type"] == "KeyError"
    assert any("in crash" in frame for frame in line["traceback"])  # where it happened
    assert SECRET not in json.dumps(lines)


async def test_without_an_incoming_id_the_generated_one_is_logged_and_returned(log_lines):
    async with client(make_app()) as http:
        response = await http.post("/crash", json={"learner_id": "x"})
    rid = response.headers["x-request-id"]
    assert rid
    assert rid != "-"
    [line] = [line for line in log_lines() if line.get("error_id") == response.json()["error_id"]]
    assert line["request_id"] == rid


async def test_the_server_does_not_log_the_same_error_again(log_lines):
    # Starlette re-raises after answering; uvicorn would log it a second time, without the ids.
    exc = RuntimeError("boom")
    mark_logged(exc, "abc123")
    # Straight to our handler: uvicorn's logging set-up (as another test's server left it) is not under test.
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    for message, error in (("Exception in ASGI application", exc), ("another problem", RuntimeError("x"))):
        handler.handle(logging.getLogger("uvicorn.error").makeRecord(
            "uvicorn.error", logging.ERROR, __file__, 1, message, (), (type(error), error, None)))
    messages = [line["msg"] for line in log_lines()]
    assert messages == ["another problem"]


@pytest.mark.parametrize("body", [b'{"learner_id": "\\ud800"}', b'{"learner_id": "a\xed\xb0\x80"}',
                                  b'{"learner_id": "ok", "\\udfff": 1}'])
async def test_unencodable_text_is_a_400_problem(body: bytes, log_lines):
    async with client(make_app()) as http:
        response = await http.post("/crash", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"
    assert "surrogate" in response.json()["detail"]


@pytest.mark.parametrize("query", ["q=%ED%A0%80", "q=%FF", "q=ok&r=%E2%82"])
async def test_a_query_that_is_not_utf8_is_a_400_problem(query: str, log_lines):
    async with client(make_app()) as http:
        response = await http.get(f"/echo?{query}")
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        assert (await http.get("/echo?q=%E2%82%AC")).json() == {"q": "€"}


async def test_a_path_that_is_not_utf8_is_a_400_problem(log_lines):
    async with client(make_app()) as http:
        response = await http.get("/echo%ED%A0%80")
    assert response.status_code == 400


def test_a_log_value_with_a_lone_surrogate_is_written(log_lines):
    logging.getLogger("test").warning("odd", extra={"field": "a\ud800b"})
    [line] = log_lines()
    assert line["field"] == "a\ud800b"
