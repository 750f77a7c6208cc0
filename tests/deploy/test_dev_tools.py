"""The `make run` helpers: the EMREG file the registry-cache accepts, the OIDC provider's client checks."""

import base64
import json
import runpy
import subprocess
import sys

from emrex_cli.devpki import make_ca, make_signing_key


def _module(kit, name):
    return runpy.run_path(str(kit.ROOT / "deploy" / "dev" / f"{name}.py"), run_name=f"ncp_dev_{name}")


def test_emreg_file_lists_our_node_and_the_registry_cache_accepts_it(kit, tmp_path):
    from ncp_registry_cache.domain.emreg import parse_emreg

    ca = make_ca(bits=2048)
    key = make_signing_key(ca, bits=2048)
    chain = tmp_path / "signing.crt"
    chain.write_bytes(key.cert_pem() + ca.cert_pem())
    out = tmp_path / "emreg.json"
    subprocess.run([sys.executable, str(kit.ROOT / "deploy" / "dev" / "make_emreg.py"), "--url",
                    "http://127.0.0.1:8000/emrex", "--cert", str(chain), "--institution", "aurora.example.fi",
                    "--out", str(out)], check=True)
    document = json.loads(out.read_text())
    (emp,) = document["emps"]
    assert emp["pubKey"] == key.cert_pem().decode()  # the signing certificate, not the CA
    registry = parse_emreg(out.read_bytes())
    (node,) = registry.nodes
    assert node.url == "http://127.0.0.1:8000/emrex"


def _authorize(client, query):
    return client.get("/oauth2/authorize?" + "&".join(f"{k}={v}" for k, v in query.items()))


def test_oidc_provider_knows_only_the_registered_client(kit, monkeypatch):
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    build = _module(kit, "oidc_provider")["build"]
    app = build("ncp-gateway-dev", "a-long-client-secret", ["http://127.0.0.1:8000/login/callback"],
                [{"sub": "demo-learner-1", "given_name": "Aino"}])
    client = app.test_client()
    ok = {"client_id": "ncp-gateway-dev", "response_type": "code", "scope": "openid",
          "redirect_uri": "http://127.0.0.1:8000/login/callback", "state": "s", "nonce": "n"}
    page = _authorize(client, ok)
    assert page.status_code == 200
    assert b"demo-learner-1" in page.data
    assert _authorize(client, {**ok, "client_id": "someone-else"}).status_code >= 400
    assert _authorize(client, {**ok, "redirect_uri": "http://127.0.0.1:9999/cb"}).status_code >= 400
    # "Deny" answers access_denied with the request's state (RFC 6749 4.1.2.1).
    denied = client.post("/oauth2/authorize?" + "&".join(f"{k}={v}" for k, v in ok.items()), data={"action": "deny"})
    assert denied.status_code == 302
    assert "error=access_denied" in denied.headers["Location"]
    assert denied.headers["Location"].endswith("&state=s")
    # A whole code flow: the right secret gets a token, a wrong one does not.
    answer = client.post("/oauth2/authorize?" + "&".join(f"{k}={v}" for k, v in ok.items()),
                         data={"sub": "demo-learner-1"})
    assert answer.status_code == 302
    code = answer.headers["Location"].split("code=")[1].split("&")[0]
    bad = client.post("/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": ok["redirect_uri"]},
                      headers={"Authorization": "Basic " + base64.b64encode(b"ncp-gateway-dev:wrong").decode()})
    assert bad.status_code == 401
    good = client.post("/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                              "redirect_uri": ok["redirect_uri"]},
                       headers={"Authorization": "Basic "
                                + base64.b64encode(b"ncp-gateway-dev:a-long-client-secret").decode()})
    assert good.status_code == 200, good.data
    assert "id_token" in good.get_json()
    # Signed with the provider's key object (not re-imported per token): it verifies with the published JWKS.
    from authlib.jose import JsonWebKey, jwt

    claims = jwt.decode(good.get_json()["id_token"], JsonWebKey.import_key_set(client.get("/jwks").get_json()))
    assert claims["sub"] == "demo-learner-1"
    assert claims["nonce"] == "n"
    assert not app.debug


def test_readiness_banner_lists_every_process(kit, monkeypatch):
    monkeypatch.setenv("NCP_GATEWAY_PORT", "18000")
    endpoints = _module(kit, "wait_ready")["endpoints"]()
    assert set(endpoints) == {"ncp-gateway", "signer", "registry-cache", "sis-adapter", "oidc-provider", "demo-client"}
    assert endpoints["ncp-gateway"] == "http://127.0.0.1:18000/readyz"


def test_run_script_procfiles_cover_every_service(kit):
    procfiles = sorted(p.parent.name for p in (kit.ROOT / "services").glob("*/dev.procfile"))
    services = sorted(p.name for p in (kit.ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
    assert procfiles == services
    for path in [*(kit.ROOT / "services").glob("*/dev.procfile"), *(kit.ROOT / "deploy" / "dev").glob("*.procfile")]:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        assert len(lines) == 1, path
        assert ": " in lines[0], path


def test_run_script_makes_every_file_the_procfiles_read(kit):
    """Each `$NCP_DEV_DIR/<name>` a process line reads is generated by deploy/dev/run.sh."""
    import re

    run = (kit.ROOT / "deploy" / "dev" / "run.sh").read_text()
    procfiles = [*(kit.ROOT / "services").glob("*/dev.procfile"), *(kit.ROOT / "deploy" / "dev").glob("*.procfile")]
    names = {m for p in procfiles for m in re.findall(r"\$\{?NCP_DEV_DIR\}?/([A-Za-z0-9_.-]+)", p.read_text())}
    assert names
    generated = {"keys", "callers", "data", "emreg.json", "oidc-client-id", "oidc-client-secret", "session-secret",
                 "pseudonym-key", "clients.json"}
    assert names <= generated, f"procfiles read {sorted(names - generated)}, which run.sh does not make"
    for name in generated:
        assert name in run, name


def _annotations_need_postponed_evaluation(tree):
    """PEP 604 unions or PEP 585 builtin generics in annotations: evaluated at definition before Python 3.10."""
    import ast

    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations = [a.annotation for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations = [node.annotation]
        for annotation in filter(None, annotations):
            for part in ast.walk(annotation):
                if isinstance(part, ast.BinOp) and isinstance(part.op, ast.BitOr):
                    return True
                if isinstance(part, ast.Subscript) and isinstance(part.value, ast.Name) and part.value.id in (
                        "list", "dict", "set", "tuple", "type"):
                    return True
    return False


def test_gen_secrets_python_helpers_run_on_python_3_8(kit):
    """gen-secrets.sh runs with whatever python3 the host has (macOS: 3.9): its helpers must parse and define
    on 3.8+, so no 3.10+ syntax and no annotation evaluated at definition time that 3.8 cannot evaluate."""
    import ast
    import re

    script = (kit.ROOT / "deploy" / "dev" / "gen-secrets.sh").read_text()
    helpers = set(re.findall(r"(deploy/dev/\w+\.py)", script))
    assert helpers, "gen-secrets.sh runs no Python helper any more? update this test"
    for helper in helpers:
        source = (kit.ROOT / helper).read_text()
        tree = ast.parse(source, feature_version=(3, 8))
        postponed = any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
                        and any(a.name == "annotations" for a in n.names) for n in tree.body)
        assert postponed or not _annotations_need_postponed_evaluation(tree), helper
        assert not re.search(r"\.removeprefix\(|\.removesuffix\(|\bmatch \w+:", source), helper
