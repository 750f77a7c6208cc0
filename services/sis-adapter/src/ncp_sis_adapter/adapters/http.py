"""HTTP plumbing shared by the REST and ELMO adapters: auth from secret files, errors to SourceErrors."""

import httpx

from ncp_runtime import read_secret
from ncp_sis_adapter.config import BasicAuthConfig, BearerAuthConfig
from ncp_sis_adapter.domain.sources import SourceRejected, SourceUnavailable


def make_auth(config: BearerAuthConfig | BasicAuthConfig | None) -> httpx.Auth | None:
    """Read once at start-up; a missing secret file stops the service."""
    if isinstance(config, BearerAuthConfig):
        token = read_secret(config.token_file)

        class Bearer(httpx.Auth):
            def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
                request.headers["Authorization"] = f"Bearer {token}"
                yield request

        return Bearer()
    if isinstance(config, BasicAuthConfig):
        return httpx.BasicAuth(config.username, read_secret(config.password_file))
    return None


def make_client(timeout: float, auth: httpx.Auth | None) -> httpx.AsyncClient:
    # The fan-out's own timeout is the one that counts; httpx's is a backstop slightly above it.
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout + 1.0), auth=auth, follow_redirects=False,
                             headers={"Accept": "application/json, application/xml;q=0.9"})


async def get(client: httpx.AsyncClient, url: str, params: dict[str, str], max_bytes: int) -> bytes | None:
    """The body of a GET (decoded, at most max_bytes); None for 404 (the learner is unknown there);
    SourceRejected for another 4xx, SourceUnavailable for anything else that fails."""
    try:
        async with client.stream("GET", url, params=params) as response:
            if response.status_code == 404:
                return None
            if response.status_code in (401, 403):  # our credentials for this SIS: broken for every request
                raise SourceUnavailable(f"the SIS refused our credentials (HTTP {response.status_code})")
            # Another 4xx refuses this one request, whose values a caller chose: it must not count against the
            # SIS's breaker (only 5xx, timeouts and transport errors do), or bad input could take it offline.
            if 400 <= response.status_code < 500:
                raise SourceRejected(f"the SIS refused the request (HTTP {response.status_code})")
            if response.status_code != 200:
                raise SourceUnavailable(f"the SIS answered HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise SourceUnavailable(f"the SIS answer is larger than {max_bytes} bytes")
            return bytes(body)
    except httpx.TimeoutException:
        raise TimeoutError from None
    except httpx.TransportError as exc:
        raise SourceUnavailable(f"the SIS is unreachable ({type(exc).__name__})") from None
