"""Where registry documents come from: an HTTP(S) URL with conditional GET, or a file in development."""

import hashlib
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import anyio
import httpx


class FetchFailed(Exception):
    """The source could not deliver a document; the message is safe to show in /v1/status."""


@dataclass(frozen=True)
class Fetched:
    body: bytes
    etag: str | None
    last_modified: str | None


class NotModified:
    """The source says the copy we hold is still current."""


NOT_MODIFIED = NotModified()


class Source(Protocol):
    location: str

    async def fetch(self, etag: str | None, last_modified: str | None) -> Fetched | NotModified: ...


MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


class HttpSource:
    """Redirects are followed only within the source's origin (same scheme, host and port): a redirect
    to another host or from https to http would hand the registry, and so the trust in every node's
    certificate, to whoever controls that other place."""

    def __init__(self, url: str, http: httpx.AsyncClient, *, timeout: float, max_bytes: int) -> None:
        self.location = url
        self._http = http
        self._timeout = timeout
        self._max_bytes = max_bytes

    async def fetch(self, etag: str | None, last_modified: str | None) -> Fetched | NotModified:
        headers = {"Accept": "application/json, application/xml;q=0.9, */*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            # One deadline for the whole exchange, so a server that trickles bytes cannot hold us.
            with anyio.fail_after(self._timeout):
                url = httpx.URL(self.location)
                for _ in range(MAX_REDIRECTS + 1):
                    async with self._http.stream("GET", url, headers=headers, timeout=self._timeout,
                                                 follow_redirects=False) as response:
                        if response.status_code in REDIRECTS and "location" in response.headers:
                            url = self._redirect_target(url, response.headers["location"])
                            continue
                        return await self._read(response)
                raise FetchFailed(f"upstream redirected more than {MAX_REDIRECTS} times")
        except TimeoutError:
            raise FetchFailed(f"upstream timed out after {self._timeout:g} s") from None
        except httpx.TimeoutException:
            raise FetchFailed(f"upstream timed out after {self._timeout:g} s") from None
        except httpx.RemoteProtocolError as exc:
            raise FetchFailed(f"upstream connection broke off (truncated body?): {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise FetchFailed(f"upstream unreachable: {type(exc).__name__}") from None


    @staticmethod
    def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
        try:
            target = current.join(location)
        except httpx.InvalidURL:
            raise FetchFailed("upstream redirected to an invalid URL") from None
        if _origin(target) != _origin(current):
            raise FetchFailed(f"upstream redirected to another origin ({target.scheme}://{target.host}); "
                              "not followed: update the source URL if the move is genuine")
        return target

    async def _read(self, response: httpx.Response) -> Fetched | NotModified:
        if response.status_code == 304:
            return NOT_MODIFIED
        if response.status_code != 200:
            raise FetchFailed(f"upstream answered HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                raise FetchFailed(f"upstream body is larger than {self._max_bytes} bytes")
        return Fetched(bytes(body), response.headers.get("etag"), response.headers.get("last-modified"))


class FileSource:
    """A local file (development): its mtime and size stand in for Last-Modified and the ETag."""

    def __init__(self, location: str, *, max_bytes: int) -> None:
        self.location = location
        parts = urlsplit(location)
        self._path = Path(unquote(parts.path)) if parts.scheme == "file" else Path(location)
        self._max_bytes = max_bytes

    async def fetch(self, etag: str | None, last_modified: str | None) -> Fetched | NotModified:
        path = anyio.Path(self._path)
        try:
            stat = await path.stat()
            if stat.st_size > self._max_bytes:
                raise FetchFailed(f"source file is larger than {self._max_bytes} bytes")
            body = await path.read_bytes()
        except FileNotFoundError:
            raise FetchFailed("source file does not exist (yet)") from None
        except OSError as exc:
            raise FetchFailed(f"source file is not readable: {type(exc).__name__}") from None
        tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if etag == tag:
            return NOT_MODIFIED
        return Fetched(body, tag, formatdate(stat.st_mtime, usegmt=True))


def redact(location: str) -> str:
    """A source location fit for status answers and logs: no credentials, no query values."""
    parts = urlsplit(location)
    if parts.scheme.lower() not in {"http", "https"}:
        return location
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc, query="…" if parts.query else "", fragment="").geturl()


def make_source(location: str, http: httpx.AsyncClient, *, timeout: float, max_bytes: int) -> Source:
    if urlsplit(location).scheme.lower() in {"http", "https"}:
        return HttpSource(location, http, timeout=timeout, max_bytes=max_bytes)
    return FileSource(location, max_bytes=max_bytes)
