"""The refresher against a live registry server on loopback that misbehaves on demand."""

import copy
from typing import Any

import anyio
import pytest


async def test_first_refresh_accepts_and_serves(service, upstream):
    assert (await service.client.get("/readyz")).status_code == 503
    problem = await service.client.get("/v1/emps")
    assert problem.status_code == 503
    assert problem.headers["content-type"] == "application/problem+json"
    r = await service.refresh()
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["outcomes"][0]["outcome"] == "accepted"
    assert body["status"]["state"] == "fresh"
    assert body["status"]["emps"] == 4
    assert body["status"]["countries"] == 3
    assert body["status"]["sources"][0]["format"] == "emps"
    assert (await service.client.get("/readyz")).status_code == 200
    emps = (await service.client.get("/v1/emps")).json()
    assert {e["acronym"] for e in emps["emps"]} == {"CSC", "FSAT", "UNIVR", "UNISI"}
    assert emps["stale"] is False
    assert emps["version"] == body["status"]["version"] == upstream_sha(upstream)


def upstream_sha(upstream):
    import hashlib

    return hashlib.sha256(upstream.body).hexdigest()


async def test_conditional_get_uses_etag_and_last_modified(service, upstream):
    assert (await service.refresh()).json()["outcomes"][0]["outcome"] == "accepted"
    r = await service.refresh()
    assert r.json()["outcomes"][0]["outcome"] == "not_modified"
    sent = upstream.requests[-1]
    assert sent["if-none-match"] == upstream.etag
    assert sent["if-modified-since"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert r.json()["status"]["versions_stored"] == 1


async def test_conditional_get_with_last_modified_only(service, upstream):
    upstream.mode = "lastmod-only"
    assert (await service.refresh()).json()["outcomes"][0]["outcome"] == "accepted"
    r = await service.refresh()
    assert r.json()["outcomes"][0]["outcome"] == "not_modified"
    assert "if-none-match" not in upstream.requests[-1]
    assert upstream.requests[-1]["if-modified-since"] == "Wed, 25 Nov 2026 10:00:00 GMT"


def _schema_invalid(pki, kit):
    doc = kit.registry_doc(pki)
    del doc["emps"][1]["pubKey"]
    return doc


def _extra_field(pki, kit):
    doc = kit.registry_doc(pki)
    doc["emps"][0]["comment"] = "not in the schema"
    return doc


def _bad_certificate(pki, kit):
    doc = kit.registry_doc(pki)
    # The reference file's truncated PEM (see shared/reference/emreg/emrex-client__emreg.json).
    doc["emps"][2]["pubKey"] = (
        "-----BEGIN CERTIFICATE-----\nMIIB+TCCAWICCQDiZILVgSkjojANBgkqhkiG9w0BAQUFADBBMQswCQYDVQQGEwJG\n"
        "(......)\n-----END CERTIFICATE-----"
    )
    return doc


def _bare_base64_key(pki, kit):
    doc = kit.registry_doc(pki)
    pem = doc["emps"][0]["pubKey"]
    doc["emps"][0]["pubKey"] = "".join(pem.splitlines()[1:-1])
    return doc


def _not_an_object(pki, kit):
    return b"[1, 2, 3]"


MISBEHAVIOURS = {
    "http_500": ("500", None, "failed", "HTTP 500"),
    "timeout": ("slow", None, "failed", "timed out"),
    "truncated_body": ("truncated", None, "rejected", "not JSON"),
    "connection_cut": ("short", None, "failed", "broke off"),
    "invalid_json": ("ok", lambda pki, kit: b'{"emps": [', "rejected", "not JSON"),
    "not_utf8": ("ok", lambda pki, kit: '{"countries": [], "emps": [], "x": "Ume\xe5"}'.encode("latin-1"),
                 "rejected", "not UTF-8"),
    "not_an_object": ("ok", _not_an_object, "rejected", "not a JSON object"),
    "schema_missing_field": ("ok", _schema_invalid, "rejected", "'pubKey' is a required property"),
    "schema_extra_field": ("ok", _extra_field, "rejected", "schema: emps/0"),
    "bad_certificate": ("ok", _bad_certificate, "rejected", "emps[2] (UNIVR): pubKey is not a PEM certificate"),
    "bare_base64_pubkey": ("ok", _bare_base64_key, "rejected", "emps[0] (CSC): pubKey is not a PEM certificate"),
}


@pytest.mark.parametrize("case", list(MISBEHAVIOURS))
async def test_bad_upstream_keeps_last_good_copy(service, upstream, pki, kit, case):
    mode, make_body, outcome, reason = MISBEHAVIOURS[case]
    upstream.slow_seconds = 3.0
    first = (await service.refresh()).json()
    good_version = first["status"]["version"]
    if make_body is not None:
        upstream.set(make_body(pki, kit), mode)
    else:
        upstream.mode = mode
    r = await service.refresh()
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["outcomes"][0]["outcome"] == outcome
    assert reason in result["outcomes"][0]["detail"]
    status = (await service.client.get("/v1/status")).json()
    assert status["version"] == good_version
    assert status["stale"] is True
    assert status["state"] == "stale"
    assert reason in status["last_error"]
    assert status["sources"][0]["failures"] == 1
    assert status["emps"] == 4
    assert status["versions_stored"] == 1
    # The good copy is still served, flagged stale.
    assert (await service.client.get("/readyz")).status_code == 200
    emps = await service.client.get("/v1/emps")
    assert emps.json()["stale"] is True
    assert len(emps.json()["emps"]) == 4
    assert emps.headers["x-registry-stale"] == "true"
    assert "age" in emps.headers
    metrics = (await service.client.get("/metrics")).text
    assert f'ncp_registry_refresh_total{{kind="emreg",outcome="{outcome}"}} 1' in metrics
    assert 'ncp_registry_stale{kind="emreg"} 1' in metrics
    # The source recovers: fresh again, error cleared.
    upstream.set(kit.registry_doc(pki), "ok")
    recovered = (await service.refresh()).json()
    assert recovered["outcomes"][0]["outcome"] in {"not_modified", "unchanged", "accepted"}
    assert recovered["status"]["stale"] is False
    assert recovered["status"]["last_error"] is None


async def test_changed_certificate_is_a_new_version(service, upstream, pki, kit):
    await service.refresh()
    before = (await service.client.get("/v1/certificates", params={"acronym": "CSC"})).json()
    doc = kit.registry_doc(pki)
    doc["emps"][0]["pubKey"] = pki.nodes["OTHER"].cert_pem().decode()
    upstream.set(doc)
    r = (await service.refresh()).json()
    assert r["outcomes"][0]["outcome"] == "accepted"
    assert r["status"]["versions_stored"] == 2
    after = (await service.client.get("/v1/certificates", params={"acronym": "CSC"})).json()
    assert before["nodes"][0]["certificates"][0]["sha256"] != after["nodes"][0]["certificates"][0]["sha256"]
    assert after["nodes"][0]["certificates"][0]["pem"] == pki.nodes["OTHER"].cert_pem().decode()
    assert after["version"] == r["status"]["version"] != before["version"]


async def test_content_that_comes_back_is_stored_once(service, upstream, pki, kit):
    a = kit.registry_doc(pki)
    b = copy.deepcopy(a)
    b["emps"].pop()
    for doc in (a, b, a):
        upstream.set(doc)
        assert (await service.refresh()).json()["outcomes"][0]["outcome"] == "accepted"
    status = (await service.client.get("/v1/status")).json()
    assert status["versions_stored"] == 2
    assert status["emps"] == 4


async def test_same_bytes_without_etag_are_unchanged(service, upstream):
    await service.refresh()
    # A server that ignores If-None-Match answers 200 with the same bytes.
    upstream.mode = "ignore-conditional"
    r = (await service.refresh()).json()
    assert r["outcomes"][0]["outcome"] in {"unchanged", "not_modified"}
    assert r["status"]["versions_stored"] == 1


async def test_legacy_ncps_document_is_accepted(service, upstream, pki, kit):
    doc = kit.registry_doc(pki, key="ncps")
    doc["countries"] = [{"countryCode": "FI", "countryName": "Finland"},
                        {"countryCode": "IT", "countryName": "Italy", "singleFetch": "true"}]
    upstream.set(doc)
    r = (await service.refresh()).json()
    assert r["outcomes"][0]["outcome"] == "accepted", r
    assert r["status"]["sources"][0]["format"] == "ncps"
    assert len((await service.client.get("/v1/emps", params={"country": "it"})).json()["emps"]) == 2


async def test_refresh_needs_the_admin_token(service, tokens_dir):
    r = await service.client.post("/v1/refresh")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    r = await service.client.post("/v1/refresh", headers={"Authorization": "Bearer not-a-known-token-at-all"})
    assert r.status_code == 401
    gateway = (tokens_dir / "gateway").read_text().strip()
    r = await service.client.post("/v1/refresh", headers={"Authorization": f"Bearer {gateway}"})
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"


async def test_restart_serves_last_good_copy_at_once(tmp_path, upstream, tokens_dir, admin_token, kit):
    settings = kit.make_settings(tmp_path, upstream.url, tokens_dir)
    async for running in kit.start(settings, admin_token):
        assert (await running.refresh()).status_code == 200
        version = (await running.client.get("/v1/status")).json()["version"]
    upstream.mode = "500"  # the registry is down while we restart
    async for running in kit.start(settings, admin_token):
        assert (await running.client.get("/readyz")).status_code == 200
        status = (await running.client.get("/v1/status")).json()
        assert status["version"] == version
        assert status["emps"] == 4
        assert status["stale"] is False  # confirmed recently, no failure yet
        lookup = await running.client.get("/v1/emps/lookup", params={"url": "https://fsweb.example.no/ncp/"})
        assert lookup.status_code == 200
        assert lookup.json()["acronym"] == "FSAT"
        r = (await running.refresh()).json()
        assert r["outcomes"][0]["outcome"] == "failed"
        assert r["status"]["stale"] is True
        assert r["status"]["version"] == version


async def test_stale_after_max_age_without_errors(tmp_path, upstream, tokens_dir, admin_token, kit):
    settings = kit.make_settings(tmp_path, upstream.url, tokens_dir, stale_after=0.3)
    async for running in kit.start(settings, admin_token):
        await running.refresh()
        assert (await running.client.get("/v1/status")).json()["stale"] is False
        await anyio.sleep(0.5)
        status = (await running.client.get("/v1/status")).json()
        assert status["stale"] is True
        assert status["last_error"] is None
        assert status["age_seconds"] >= 0.3


async def test_missing_file_source_starts_not_ready_and_keeps_retrying(tmp_path, pki, kit, tokens_dir, admin_token):
    source = tmp_path / "dev" / "emreg.json"
    settings = kit.make_settings(tmp_path, str(source), tokens_dir, run_refresher=True, retry_interval=0.1,
                                 refresh_interval=30)
    async for running in kit.start(settings, admin_token):
        await anyio.sleep(0.3)
        assert (await running.client.get("/readyz")).status_code == 503
        status = (await running.client.get("/v1/status")).json()
        assert status["state"] == "empty"
        assert "does not exist" in status["last_error"]
        source.parent.mkdir()
        source.write_bytes(kit.dumps(kit.registry_doc(pki)))
        with anyio.fail_after(10):
            while (await running.client.get("/readyz")).status_code != 200:  # noqa: ASYNC110
                await anyio.sleep(0.1)
        assert len((await running.client.get("/v1/emps")).json()["emps"]) == 4


async def test_file_url_source(tmp_path, pki, kit, tokens_dir, admin_token):
    source = tmp_path / "emreg.json"
    source.write_bytes(kit.dumps(kit.registry_doc(pki)))
    settings = kit.make_settings(tmp_path, source.as_uri(), tokens_dir)
    async for running in kit.start(settings, admin_token):
        assert (await running.refresh()).json()["outcomes"][0]["outcome"] == "accepted"
        assert (await running.refresh()).json()["outcomes"][0]["outcome"] == "not_modified"


@pytest.mark.parametrize("source", ["/etc/emreg.json", "file:///etc/emreg.json", "http://127.0.0.1:9/emreg.json",
                                    "http://localhost/emreg.json", "http://emreg.example/emp-list.json"])
@pytest.mark.parametrize("env", ["dev", "test", "prod"])
def test_only_https_sources_outside_development_mode(tmp_path, kit, source, env):
    with pytest.raises(ValueError, match="must be https"):
        kit.make_settings(tmp_path, source, None, env=env, dev_mode=False)
    with pytest.raises(ValueError, match="must be https"):
        kit.make_settings(tmp_path, "https://emreg.example/emp-list.json", None, env=env, dev_mode=False,
                          ewp_source=source)
    assert kit.make_settings(tmp_path, "https://emreg.example/emp-list.json", None, env=env,
                             dev_mode=False).source == "https://emreg.example/emp-list.json"


def test_development_mode_is_off_unless_set(monkeypatch):
    from ncp_registry_cache.settings import Settings

    for name in ("NCP_REGISTRY_DEV_MODE", "NCP_REGISTRY_ENV", "NCP_REGISTRY_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NCP_REGISTRY_SOURCE", "/etc/emreg.json")
    with pytest.raises(ValueError, match="must be https"):
        Settings()
    monkeypatch.setenv("NCP_REGISTRY_DEV_MODE", "true")
    assert Settings().dev_mode is True


@pytest.mark.parametrize("source", ["http://emreg.example/emp-list.json", "http://10.0.0.5/emp-list.json",
                                    "http://[::ffff:8.8.8.8]/emp-list.json", "http://127.0.0.1.example/x.json"])
def test_development_mode_allows_http_on_loopback_only(tmp_path, kit, source):
    with pytest.raises(ValueError, match="loopback only"):
        kit.make_settings(tmp_path, source, None, dev_mode=True)
    for loopback in ("http://127.0.0.1:8/emreg.json", "http://[::1]:8/emreg.json", "http://localhost:8/e.json"):
        assert kit.make_settings(tmp_path, loopback, None, dev_mode=True).source == loopback


def test_next_delay_has_jitter_and_backs_off():
    from ncp_registry_cache.adapters.sources import redact
    from ncp_registry_cache.domain.index import RegistryIndex
    from ncp_registry_cache.refresher import Refresher

    refresher = Refresher(None, {"emreg": None}, interval=100, jitter=0.1, retry_interval=2, stale_after=300,
                          fetch_timeout=5)
    # Nothing loaded yet: retry soon.
    assert 1.8 <= refresher.next_delay() <= 2.2
    refresher.view.index = RegistryIndex([])
    delays = {refresher.next_delay() for _ in range(50)}
    assert all(90 <= d <= 110 for d in delays)
    assert len(delays) > 1
    refresher._failures = 3
    assert 7.2 <= refresher.next_delay() <= 8.8  # 2 * 2**2
    refresher._failures = 30
    assert refresher.next_delay() <= 110  # capped at the interval
    assert redact("https://user:pw@emreg.example:8443/list.json?key=secret") == "https://emreg.example:8443/list.json?…"


def test_the_refresher_leaves_the_process_wide_random_generator_alone():
    # It runs inside its host's process (tests embed it in a thread): drawing from the module-wide generator moved
    # a state the host owns, and Hypothesis, replaying seeded draws beside it, failed the conformance test.
    import random

    from ncp_registry_cache.refresher import Refresher, default_owner

    refresher = Refresher(None, {"emreg": None}, interval=100, jitter=0.1, retry_interval=2, stale_after=300,
                          fetch_timeout=5)
    before = random.getstate()
    for _ in range(20):
        refresher.next_delay()
        default_owner()
    assert random.getstate() == before


async def _refresh_into(running: Any, answers: list[Any], done: anyio.Event) -> None:
    answers.append(await running.refresh())
    done.set()


async def test_overlapping_syncs_never_put_back_an_older_view(tmp_path, upstream, tokens_dir, admin_token, kit, pki,
                                                             monkeypatch):
    """A replica's sync that started before a newer version was loaded must not replace it when it ends.

    Replica W stores version 2 behind replica R's back. R's status request starts a sync that loads version 2
    (held in its parse); meanwhile R's own refresh stores and loads version 3. When the held sync ends, R must
    still serve version 3 (its EMREX 2.0 client list was once dropped this way).
    """
    import threading

    from ncp_registry_cache import app as app_module

    real_parse = app_module.parse_document
    held_body: list[bytes] = []
    parked = threading.Event()
    release = threading.Event()

    def parse_holding_one_body(body: bytes, kind: str, **options: Any) -> Any:
        if held_body and body == held_body[0]:
            parked.set()
            release.wait(10)
        return real_parse(body, kind, **options)

    monkeypatch.setattr(app_module, "parse_document", parse_holding_one_body)
    settings = kit.make_settings(tmp_path, upstream.url, tokens_dir)
    docs = []
    for n in range(3):
        doc = kit.registry_doc(pki)
        doc["emps"][1]["institutions"].append(f"Institution {n}")
        docs.append(kit.dumps(doc))
    async for writer in kit.start(settings, admin_token):
        upstream.set(docs[0])
        assert (await writer.refresh()).status_code == 200
        async for reader in kit.start(settings, admin_token):
            upstream.set(docs[1])
            assert (await writer.refresh()).json()["outcomes"][0]["outcome"] == "accepted"
            held_body.append(docs[1])
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(reader.client.get, "/v1/status")  # its sync loads version 2, held in the parse
                assert await anyio.to_thread.run_sync(parked.wait, 10)
                upstream.set(docs[2])
                refreshed: list[Any] = []
                done = anyio.Event()
                tasks.start_soon(_refresh_into, reader, refreshed, done)
                with anyio.move_on_after(1.5):  # the refresh may end first (it must not: its sync waits)
                    await done.wait()
                release.set()
            assert refreshed[0].json()["outcomes"][0]["outcome"] == "accepted"
            # Read from the view as it is (the status endpoint would sync again first).
            served = (await reader.client.get("/v1/emps")).json()
            assert served["version"] == upstream_sha(upstream)  # docs[2]
            assert "Institution 2" in {i for e in served["emps"] for i in e["institutions"]}
