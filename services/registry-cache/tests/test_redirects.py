"""Registry sources: a redirect is followed only within the source's origin (scheme, host and port)."""

from typing import Any

import pytest

from ncp_testkit import serve_on_loopback


class Redirector:
    """Answers /moved with a redirect to `target` (filled in once the port is known), /emp-list.json with EMREG."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.target = ""
        self.hosts: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.hosts.append(f"{headers.get('host')}{scope['path']}")
        if scope["path"] == "/moved":
            await send({"type": "http.response.start", "status": 302,
                        "headers": [(b"location", self.target.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": self.body})


@pytest.fixture
def redirector(pki, kit):
    app = Redirector(kit.dumps(kit.registry_doc(pki)))
    with serve_on_loopback(app, lifespan="off") as base:
        yield app, base


async def _refresh_from(kit, tmp_path, tokens_dir, admin_token, source):
    settings = kit.make_settings(tmp_path, source, tokens_dir)
    async for running in kit.start(settings, admin_token):
        return (await running.refresh()).json()["outcomes"][0]


@pytest.mark.parametrize("target", [
    "http://localhost:{port}/emp-list.json",        # another host name (the same server: it would work)
    "https://127.0.0.1:{port}/emp-list.json",       # another scheme
    "http://127.0.0.1:{other}/emp-list.json",       # another port
    "//localhost:{port}/emp-list.json",             # scheme-relative, another host
])
async def test_a_redirect_to_another_origin_is_not_followed(redirector, kit, tmp_path, tokens_dir, admin_token,
                                                            target):
    app, base = redirector
    port = int(base.rsplit(":", 1)[1])
    app.target = target.format(port=port, other=port + 1 if port < 65535 else port - 1)
    outcome = await _refresh_from(kit, tmp_path, tokens_dir, admin_token, f"{base}/moved")
    assert outcome["outcome"] == "failed", outcome
    assert "another origin" in outcome["detail"]
    assert app.hosts == [f"127.0.0.1:{port}/moved"]  # nothing was fetched from the redirect's target


async def test_a_redirect_within_the_origin_is_followed(redirector, kit, tmp_path, tokens_dir, admin_token):
    app, base = redirector
    app.target = "/emp-list.json"
    outcome = await _refresh_from(kit, tmp_path, tokens_dir, admin_token, f"{base}/moved")
    assert outcome["outcome"] == "accepted", outcome


async def test_a_redirect_loop_ends(redirector, kit, tmp_path, tokens_dir, admin_token):
    app, base = redirector
    app.target = "/moved"
    outcome = await _refresh_from(kit, tmp_path, tokens_dir, admin_token, f"{base}/moved")
    assert outcome["outcome"] == "failed"
    assert "redirected more than" in outcome["detail"]


async def test_the_source_decides_whatever_client_it_is_given(redirector):
    """The `refresh` command and the service share HttpSource; a client that follows redirects changes nothing."""
    import httpx

    from ncp_registry_cache.adapters.sources import FetchFailed, HttpSource

    app, base = redirector
    app.target = f"http://localhost:{base.rsplit(':', 1)[1]}/emp-list.json"
    async with httpx.AsyncClient(follow_redirects=True) as http:
        source = HttpSource(f"{base}/moved", http, timeout=5, max_bytes=1 << 20)
        with pytest.raises(FetchFailed, match="another origin"):
            await source.fetch(None, None)
    assert len(app.hosts) == 1
