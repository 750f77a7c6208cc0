"""An httpx transport that sends over aiohttp: the typed clients keep httpx's API, the wire costs less CPU.

httpx's own transport (httpcore, h11 and anyio, all pure Python) costs about 1 ms of CPU per internal call on
our machines and aiohttp (C parser) about 0.3 ms; a student flow makes five or six such calls (issue 13). httpx
still builds the request, runs the auth flow, decodes the body and keeps cookies; this transport only moves
bytes. aiohttp keeps no cookies of its own (a shared jar would carry one student's upstream cookies into
another's calls) and decompresses nothing (httpx does, once).

Failures become httpx's exceptions, so callers keep catching `httpx.TimeoutException` and
`httpx.TransportError`: a connect timeout is `ConnectTimeout`, a read timeout `ReadTimeout`, a refused or
unresolvable peer `ConnectError`, a dropped connection `ReadError`, a malformed answer `RemoteProtocolError`.
"""

import ssl

import aiohttp
import httpx


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp session (its connection pool) per transport, created on the first request (it needs a loop)."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits | None = None) -> None:
        self._ssl: ssl.SSLContext = verify if isinstance(verify, ssl.SSLContext) else \
            httpx.create_ssl_context(verify=verify)
        self._limits = limits or httpx.Limits()
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self._ssl, limit=self._limits.max_connections or 0,
            # Idle connections are dropped as httpx's pool would drop them (before the server's keep-alive ends).
            keepalive_timeout=self._limits.keepalive_expiry if self._limits.keepalive_expiry is not None else 5.0,
            # Names are resolved for every new connection, as httpx does. aiohttp would keep an answer for 10 s,
            # and a restarted container or pod comes back at a new address: every call within those seconds
            # would go to the old one and time out.
            use_dns_cache=False,
        )
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     auto_decompress=False, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        try:
            async with self._session.request(
                request.method, str(request.url), data=body or None, allow_redirects=False,
                headers=[(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw],
                timeout=aiohttp.ClientTimeout(total=None, connect=timeout.get("pool"),
                                              sock_connect=timeout.get("connect"), sock_read=timeout.get("read")),
            ) as answer:
                content = await answer.read()
                status, headers, reason = answer.status, answer.raw_headers, answer.reason
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timed out", request=request) from exc
        except TimeoutError as exc:  # aiohttp.ServerTimeoutError is one too
            raise httpx.ReadTimeout(str(exc) or "read timed out", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError) as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__, request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__, request=request) from exc
        extensions = {"http_version": b"HTTP/1.1", **({"reason_phrase": reason.encode()} if reason else {})}
        return httpx.Response(status, headers=list(headers), stream=httpx.ByteStream(content), request=request,
                              extensions=extensions)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
