"""Benchmark: EMREX 2.0 token requests and GET /results per second, against floors measured in the same run.

    .venv/bin/python services/ncp-gateway/bench/bench_emrex2.py [--tokens 300] [--results 60]

Everything runs in this process over ASGI (gateway, the real signer and registry-cache, the client), so the
ratios are CPU time per request of the whole exchange against:
  - token: one RS256 verification of a client assertion (joserfc, claims checked) plus one database write
    (an SQLite insert and commit), the least a private_key_jwt token request with a jti store can cost;
  - /results: one signer call (POST /v1/sign of the same ELMO through the in-process signer).
Codes are seeded straight into the gateway's database (the student pages have their own benchmark).
Exits non-zero when any request fails.
"""

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import json
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from emrex_elmo import to_xml, validate
from ncp_gateway.adapters.oauth2_store import CodeRow, ConsentRow, OAuth2Store, ReleaseRow
from ncp_gateway.adapters.store import make_engine
from ncp_gateway.app import create_app as gateway_app
from ncp_gateway.domain.oauth2 import ASSERTION_TYPE, secret_key
from ncp_gateway.settings import Settings
from ncp_registry_cache.app import create_app as registry_app
from ncp_registry_cache.settings import Settings as RegistrySettings
from ncp_signer import Settings as SignerSettings, create_app as signer_app
from ncp_testkit import bearer, dev_ca, make_elmo, signing_key, write_caller_tokens, write_key_files
from ncp_testkit.benchmark import Ratio, median_cpu_ms, publish

NODE = "http://node"
CLIENT_ID = "bench-emc"
REDIRECT_URI = "https://emc.example.fi/cb"


def assertion(key: RSAKey) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "RS256", "kid": key.kid}, {
        "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": f"{NODE}/oauth2/token", "jti": secrets.token_urlsafe(16),
        "iat": now, "exp": now + 60}, key)


def token_floor_ms(key: RSAKey, directory: Path) -> float:
    """One RS256 verification with its claims checked, plus one insert committed to a database file."""
    public = KeySet.import_key_set({"keys": [key.as_dict(private=False)]})
    tokens = [assertion(key) for _ in range(300)]
    db = sqlite3.connect(directory / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("create table jti (client_id text, jti text, exp integer, primary key (client_id, jti))")
    counter = iter(range(10**9))

    def work() -> None:
        token = tokens[next(counter) % len(tokens)]
        claims = jwt.decode(token, public, algorithms=["RS256"]).claims
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": CLIENT_ID},
                              aud={"essential": True, "value": f"{NODE}/oauth2/token"}).validate(claims)
        db.execute("insert into jti values (?, ?, ?)", (CLIENT_ID, f"{next(counter)}", claims["exp"]))

    try:
        return median_cpu_ms(work, runs=200)
    finally:
        db.close()


async def run(args: argparse.Namespace) -> int:
    directory = Path(tempfile.mkdtemp(prefix="bench-emrex2-"))
    tokens = write_caller_tokens(directory / "tokens", "gateway", "admin")
    key_file, cert_file = write_key_files(directory / "node", "node", signing_key(dev_ca(), "node.example"))
    client_key = RSAKey.generate_key(2048, private=True)
    client_key.ensure_kid()
    (directory / "clients.json").write_text(json.dumps({"clients": [{
        "client_id": CLIENT_ID, "name": "Bench EMC", "redirect_uris": [REDIRECT_URI],
        "jwks": {"keys": [{**client_key.as_dict(private=False), "use": "sig"}]}}]}))
    (directory / "emreg.json").write_text(json.dumps({"emps": [], "countries": []}))
    (directory / "gateway-token").write_text(tokens["gateway"])
    signer = signer_app(SignerSettings(key_file=key_file, cert_file=cert_file,
                                       caller_tokens_path=directory / "tokens", log_level="WARNING"))
    registry = registry_app(RegistrySettings(
        env="test", dev_mode=True, source=str(directory / "emreg.json"),
        clients_source=str(directory / "clients.json"), run_refresher=False, log_level="WARNING",
        database_url=f"sqlite+aiosqlite:///{directory / 'registry.db'}", caller_tokens_path=directory / "tokens"))
    document = to_xml(make_elmo(courses=20))
    validate(document, "1.7.0")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    async with LifespanManager(signer, startup_timeout=60) as s, LifespanManager(registry, startup_timeout=60) as r:
        signer_transport, registry_transport = httpx.ASGITransport(app=s.app), httpx.ASGITransport(app=r.app)
        async with httpx.AsyncClient(transport=registry_transport, base_url="http://registry") as http:
            assert (await http.post("/v1/refresh", headers=bearer(tokens["admin"]))).status_code == 200
        settings = Settings(env="test", database_path=directory / "gateway.db", emrex2_enabled=True,
                            public_url=NODE, signer_url="http://signer", registry_url="http://registry",
                            signer_token_path=directory / "gateway-token", log_level="WARNING")
        app = gateway_app(settings, transports={"signer": signer_transport, "registry": registry_transport})
        async with LifespanManager(app, startup_timeout=60) as g, httpx.AsyncClient(
                transport=httpx.ASGITransport(app=g.app), base_url=NODE, timeout=60) as node, httpx.AsyncClient(
                transport=signer_transport, base_url="http://signer", headers=bearer(tokens["gateway"])) as direct:
            engine = make_engine(settings.sqlalchemy_url)
            store = OAuth2Store(engine)
            codes = []
            now = dt.datetime.now(dt.UTC)
            for i in range(args.tokens):
                code = secrets.token_urlsafe(32)
                codes.append(code)
                await store.release(
                    ConsentRow(ref_id=f"r{i}", selected="[]", client_id=CLIENT_ID, consented_at=now,
                               wording_version="1"),
                    ReleaseRow(ref_id=f"r{i}", document=document.decode(), expires_at=now + dt.timedelta(hours=1)),
                    CodeRow(id=secret_key(code), ref_id=f"r{i}", client_id=CLIENT_ID, redirect_uri=REDIRECT_URI,
                            code_challenge=challenge, scope="elmo", expires_at=now + dt.timedelta(hours=1)))
            await engine.dispose()
            failures = 0
            access: list[str] = []
            assertions = [assertion(client_key) for _ in codes]  # the client's signing is not the node's work
            cpu, wall = time.process_time(), time.perf_counter()
            for code, signed_assertion in zip(codes, assertions, strict=True):
                response = await node.post("/oauth2/token", data={
                    "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
                    "code_verifier": verifier, "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": signed_assertion})
                if response.status_code == 200:
                    access.append(response.json()["access_token"])
                else:
                    failures += 1
            token_cpu = (time.process_time() - cpu) / len(codes) * 1000
            token_rate = len(codes) / (time.perf_counter() - wall)
            cpu, wall = time.process_time(), time.perf_counter()
            for i in range(args.results):
                response = await node.get("/results", params={"data_format": "elmo"},
                                          headers={"Authorization": f"Bearer {access[i % len(access)]}"})
                if response.status_code != 200 or "x-signature" not in response.headers:
                    failures += 1
            results_cpu = (time.process_time() - cpu) / args.results * 1000
            results_rate = args.results / (time.perf_counter() - wall)
            cpu = time.process_time()
            for _ in range(args.results):
                signed = await direct.post("/v1/sign", content=document, headers={"content-type": "application/xml"})
                if signed.status_code != 200:
                    failures += 1
            sign_floor = (time.process_time() - cpu) / args.results * 1000
    token_floor = token_floor_ms(client_key, directory)
    print(f"tokens: {token_rate:.0f}/s wall, {token_cpu:.2f} ms CPU each; /results (elmo): {results_rate:.1f}/s wall, "
          f"{results_cpu:.2f} ms CPU each; failures {failures}")
    publish([
        Ratio("emrex2", "POST /oauth2/token (private_key_jwt RS256, PKCE)", token_cpu,
              "RS256 verify + claims + 1 SQLite write", token_floor, note=f"{token_rate:.0f} tokens/s in process"),
        Ratio("emrex2", "GET /results elmo (XMLDSig + X-Signature)", results_cpu, "1 signer call (POST /v1/sign)",
              sign_floor, note=f"{results_rate:.1f} results/s in process"),
    ])
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--results", type=int, default=60)
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
