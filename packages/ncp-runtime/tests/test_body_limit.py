"""The one body limit: problem+json 413 by default, or the app's own refusal raised where the app reads the body;
both for a declared length and for bytes that stream in without one."""

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ncp_runtime import BodyLimitMiddleware

LIMIT = 100


class Refused(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def make_app(*, own_refusal: bool) -> Starlette:
    read: list[int] = []

    async def echo(request: Request) -> Response:
        body = await request.body()
        read.append(len(body))
        return PlainTextResponse(str(len(body)))

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return PlainTextResponse(f"refused over {exc.limit}", status_code=413)

    app = Starlette(routes=[Route("/echo", echo, methods=["GET", "POST"])],
                    exception_handlers={Refused: refused})
    app.add_middleware(BodyLimitMiddleware, max_bytes=LIMIT, refusal=Refused if own_refusal else None)
    app.state.read = read
    return app


async def chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 10):
        yield b"x" * 10


async def post(app: Starlette, content: bytes | AsyncIterator[bytes]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.post("/echo", content=content)


@pytest.mark.parametrize("own_refusal", [False, True])
async def test_a_body_within_the_limit_reaches_the_app(own_refusal: bool) -> None:
    app = make_app(own_refusal=own_refusal)
    assert (await post(app, b"x" * LIMIT)).text == str(LIMIT)
    assert (await post(app, chunks(LIMIT))).text == str(LIMIT)
    assert app.state.read == [LIMIT, LIMIT]


@pytest.mark.parametrize("streamed", [False, True])
async def test_internal_apis_answer_problem_json_413(streamed: bool) -> None:
    app = make_app(own_refusal=False)
    response = await post(app, chunks(LIMIT + 10) if streamed else b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "too_large"
    assert str(LIMIT) in response.json()["detail"]
    assert app.state.read == []


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_injected_refusal_is_raised_where_the_app_reads(streamed: bool) -> None:
    app = make_app(own_refusal=True)
    response = await post(app, chunks(LIMIT + 10) if streamed else b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.text == f"refused over {LIMIT}"
    assert app.state.read == []


async def test_a_get_passes_untouched() -> None:
    app = make_app(own_refusal=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        assert (await client.get("/echo")).text == "0"
