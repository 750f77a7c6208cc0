"""X-Request-ID is taken over only when it is a plain token as a whole: a trailing newline gets a new id."""

from starlette.types import Message, Receive, Scope, Send

from ncp_runtime import RequestIdMiddleware


async def answered_id(header: bytes) -> bytes:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"x-request-id", header)]}
    await RequestIdMiddleware(app)(scope, receive, send)
    return dict(sent[0]["headers"])[b"x-request-id"]


async def test_a_plain_request_id_is_kept():
    assert await answered_id(b"abc-123") == b"abc-123"


async def test_a_request_id_with_a_trailing_newline_is_replaced():
    replaced = await answered_id(b"abc-123\n")
    assert replaced != b"abc-123\n"
    assert b"\n" not in replaced
