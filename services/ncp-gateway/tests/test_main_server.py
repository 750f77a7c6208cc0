"""How `ncp-gateway` starts uvicorn: the keep-alive of idle connections outlasts a reverse proxy's."""

from typing import Any

import pytest

from ncp_gateway import __main__ as entrypoint
from ncp_gateway.settings import Settings


def started_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    monkeypatch.setenv("NCP_GATEWAY_ENV", "test")
    for name, value in env.items():
        monkeypatch.setenv(f"NCP_GATEWAY_{name}", value)
    monkeypatch.setattr(entrypoint, "tune_gc", lambda: None)  # gc.freeze() would outlive this test
    monkeypatch.setattr(entrypoint.uvicorn, "run", lambda app, **kwargs: seen.update(kwargs, app=app))
    entrypoint.main()
    return seen


def test_idle_connections_outlive_common_proxy_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    # uvicorn's own 5 s closes a connection that nginx (60-75 s) or a cloud balancer (60 s) still reuses.
    assert started_with(monkeypatch)["timeout_keep_alive"] == 75
    assert started_with(monkeypatch, KEEP_ALIVE_SECONDS="120")["timeout_keep_alive"] == 120


def test_a_keep_alive_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="keep_alive_seconds"):
        Settings(env="test", keep_alive_seconds=0)


def test_the_signer_waits_longer_than_the_other_upstreams_unless_set() -> None:
    assert Settings(env="test").signer_timeout == 30.0
    assert Settings(env="test", http_timeout_seconds=2.0).signer_timeout == 6.0
    assert Settings(env="test", signer_timeout_seconds=45.0).signer_timeout == 45.0
