"""The aiohttp transport under httpx, against a real uvicorn server on loopback: what goes out, what comes back,
and every failure as the httpx exception that the typed clients already handle."""

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from ncp_contracts import BearerAuth
from ncp_contracts._http import send
from ncp_contracts.aiohttp_transport import AiohttpTransport
from ncp_contracts.errors import ServiceUnavailable
from ncp_testkit.server import serve_on_loopback, silent_server


async def echo_app(scope: dict[str, Any], receive: Any, sender: Any) -> None:
    """Answers what it received; /gzip answers gzip-encoded; /cookie sets one; /drop closes without answering."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers = [(b"content-type", b"application/json")]
    if scope["path"] == "/gzip":
        payload = gzip.compress(b'{"compressed": true}')
        headers.append((b"content-encoding", b"gzip"))
    else:
        payload = json.dumps({
            "method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode(),
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]}, "body": body.decode(),
        }).encode()
    if scope["path"] == "/cookie":
        headers.append((b"set-cookie", b"upstream=secret; Path=/"))
    status = 418 if scope["path"] == "/teapot" else 200
    await sender({"type": "http.response.start", "status": status, "headers": headers})
    await sender({"type": "http.response.body", "body": payload})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_on_loopback(echo_app, lifespan="off") as url:
        yield url


@pytest.fixture
async def client(server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server, transport=AiohttpTransport(), auth=BearerAuth("t0ken"),
                                 timeout=5) as http:
        yield http


async def test_the_request_arrives_as_httpx_built_it(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/sign?version=1.7.0", content=b"<elmo/>" * 5000,
                               headers={"Content-Type": "application/xml", "X-Request-ID": "abc"})
    assert answer.status_code == 200
    seen = answer.json()
    assert (seen["method"], seen["path"], seen["query"]) == ("POST", "/v1/sign", "version=1.7.0")
    assert seen["body"] == "<elmo/>" * 5000
    assert seen["headers"]["authorization"] == "Bearer t0ken"
    assert seen["headers"]["content-type"] == "application/xml"
    assert seen["headers"]["x-request-id"] == "abc"
    assert seen["headers"]["content-length"] == str(len("<elmo/>") * 5000)


async def test_a_get_sends_no_body(client: httpx.AsyncClient) -> None:
    seen = (await client.get("/v1/emreg-entry")).json()
    assert seen["method"] == "GET"
    assert seen["body"] == ""
    assert "transfer-encoding" not in seen["headers"]


async def test_status_headers_and_reason_come_back(client: httpx.AsyncClient) -> None:
    answer = await client.get("/teapot")
    assert answer.status_code == 418
    assert answer.headers["content-type"] == "application/json"
    assert answer.reason_phrase == "I'm a Teapot"
    assert answer.http_version == "HTTP/1.1"


async def test_a_gzip_answer_is_decoded_once_by_httpx(client: httpx.AsyncClient) -> None:
    answer = await client.get("/gzip")
    assert answer.json() == {"compressed": True}


async def test_upstream_cookies_are_not_replayed_by_the_transport(server: str) -> None:
    # httpx's jar is the only one; a client without cookies must send none, whatever earlier answers set.
    async with httpx.AsyncClient(base_url=server, transport=AiohttpTransport()) as http:
        await http.get("/cookie")
        http.cookies.clear()
        seen = (await http.get("/echo")).json()
    assert "cookie" not in seen["headers"]


async def test_connections_are_reused(client: httpx.AsyncClient) -> None:
    ports = set()
    for _ in range(5):
        seen = (await client.get("/echo")).json()
        ports.add(seen["headers"]["host"])
    assert ports == {client.base_url.netloc.decode()}
    transport = client._transport
    assert isinstance(transport, AiohttpTransport)
    session = transport._session
    assert session is not None
    assert session.connector is not None
    assert len(session.connector._conns) == 1  # one idle keep-alive connection, used five times


async def test_a_refused_connection_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: refused
        async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=5) as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{port}/")


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    async with silent_server() as port:
        yield port


async def test_a_silent_server_is_a_read_timeout(silent_port: int) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=0.3) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(f"http://127.0.0.1:{silent_port}/")


async def test_a_dropped_connection_is_a_transport_error() -> None:
    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65_536)
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=5) as http:
            with pytest.raises(httpx.TransportError):
                await http.get(f"http://127.0.0.1:{port}/")
    finally:
        server.close()
        await server.wait_closed()


async def test_typed_clients_turn_transport_failures_into_service_unavailable(silent_port: int) -> None:
    async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=0.3) as http:
        with pytest.raises(ServiceUnavailable, match="timed out"):
            await send(http, "signer", http.build_request("GET", f"http://127.0.0.1:{silent_port}/"))


async def test_closing_the_client_closes_the_session(server: str) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(base_url=server, transport=transport) as http:
        await http.get("/echo")
        session = transport._session
    assert session is not None
    assert session.closed
    assert transport._session is None


async def test_a_peer_that_comes_back_at_another_address_is_reached_there(monkeypatch: pytest.MonkeyPatch) -> None:
    """A restarted container or pod answers at a new address under the same name: the next connection goes there."""
    def answering(body: bytes) -> Any:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            await writer.drain()
            writer.close()
        return answer

    before = await asyncio.start_server(answering(b"before"), "127.0.0.1", 0)
    port = before.sockets[0].getsockname()[1]
    after = await asyncio.start_server(answering(b"after"), "127.0.0.2", port)
    address = {"peer.test": "127.0.0.1"}
    real_getaddrinfo = socket.getaddrinfo

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo(address.get(host, host), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    try:
        async with httpx.AsyncClient(transport=AiohttpTransport(), timeout=2) as http:
            assert (await http.get(f"http://peer.test:{port}/")).text == "before"
            before.close()
            await before.wait_closed()
            address["peer.test"] = "127.0.0.2"
            assert (await http.get(f"http://peer.test:{port}/")).text == "after"
    finally:
        before.close()
        after.close()
        await after.wait_closed()
