"""`make run`'s EMREX 2.0 client list: the demo client with its own key, plus NCP_DEV_EXTRA_CLIENTS."""

import json
import os
import stat
import subprocess
import sys

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from ncp_registry_cache.domain.clients import parse_clients

REDIRECT = "http://127.0.0.1:8020/emrex2/callback"


def _run(kit, tmp_path, *extra):
    return subprocess.run([sys.executable, str(kit.ROOT / "deploy" / "dev" / "make_clients.py"),
                           "--key", str(tmp_path / "keys" / "demo.key"), "--redirect-uri", REDIRECT,
                           "--out", str(tmp_path / "clients.json"), *extra],
                          capture_output=True, text=True, timeout=60, check=False)


def test_demo_client_is_registered_with_its_own_key(kit, tmp_path):
    assert _run(kit, tmp_path).returncode == 0
    key_file = tmp_path / "keys" / "demo.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    document = json.loads((tmp_path / "clients.json").read_text())
    (demo,) = document["clients"]
    assert demo["client_id"] == "demo-client-dev"
    assert demo["redirect_uris"] == [REDIRECT]
    assert "d" not in demo["jwks"]["keys"][0]
    # The registry-cache accepts it under the development rule only (http on loopback).
    directory = parse_clients((tmp_path / "clients.json").read_bytes(), allow_http_loopback=True)
    assert directory.get("demo-client-dev") is not None
    # An assertion signed with the private key verifies with the registered public key, found by kid.
    private = ECKey.import_key(key_file.read_bytes())
    private.ensure_kid()
    token = jwt.encode({"alg": "ES256", "kid": private.kid}, {"iss": "demo-client-dev"}, private)
    assert jwt.decode(token, KeySet.import_key_set(demo["jwks"])).claims["iss"] == "demo-client-dev"
    # A second start keeps the key (and so the registration).
    assert _run(kit, tmp_path).returncode == 0
    assert json.loads((tmp_path / "clients.json").read_text()) == document


def test_extra_clients_are_registered_too(kit, tmp_path):
    mine = RSAKey.generate_key(2048, private=False, auto_kid=True).as_dict()
    extra = tmp_path / "my-clients.json"
    extra.write_text(json.dumps({"clients": [
        {"client_id": "my-emc", "name": "My EMC", "redirect_uris": ["http://localhost:5173/callback"],
         "jwks": {"keys": [mine]}},
        {"client_id": "my-other-emc", "redirect_uris": ["https://emc.example.org/cb"],
         "jwks_uri": "https://emc.example.org/jwks.json"},
    ]}))
    result = _run(kit, tmp_path, "--extra", str(extra))
    assert result.returncode == 0, result.stderr
    ids = [c["client_id"] for c in json.loads((tmp_path / "clients.json").read_text())["clients"]]
    assert ids == ["demo-client-dev", "my-emc", "my-other-emc"]


def test_a_bad_extra_file_stops_make_run_with_the_reason(kit, tmp_path):
    extra = tmp_path / "bad.json"
    extra.write_text(json.dumps({"clients": [{"client_id": "demo-client-dev", "redirect_uris": ["https://a.example/"],
                                              "jwks_uri": "https://a.example/jwks"}]}))
    result = _run(kit, tmp_path, "--extra", str(extra))
    assert result.returncode != 0
    assert "registered twice" in result.stderr
    extra.write_text("{not json")
    result = _run(kit, tmp_path, "--extra", str(extra))
    assert result.returncode != 0
    assert "NCP_DEV_EXTRA_CLIENTS" in result.stderr
    assert not (tmp_path / "clients.json").exists()


def test_dev_emreg_entry_has_the_emrex2_members_and_the_signer_kid(kit, tmp_path):
    from emrex_cli.devpki import make_ca, make_signing_key
    from ncp_registry_cache.domain.emreg import parse_emreg
    from ncp_signer.domain.jose import thumbprint

    key = make_signing_key(make_ca(bits=2048), bits=2048)
    (tmp_path / "signing.crt").write_bytes(key.cert_pem())
    out = tmp_path / "emreg.json"
    subprocess.run([sys.executable, str(kit.ROOT / "deploy" / "dev" / "make_emreg.py"), "--url",
                    "http://127.0.0.1:8000/emrex", "--cert", str(tmp_path / "signing.crt"), "--oauth-base",
                    "http://127.0.0.1:8000", "--out", str(out)], check=True)
    (node,) = parse_emreg(out.read_bytes()).nodes
    assert node.emrex2 is not None
    assert node.emrex2.token_url == "http://127.0.0.1:8000/oauth2/token"
    assert node.emrex2.jwks is not None
    assert node.emrex2.jwks["keys"][0]["kid"] == thumbprint(key.certificate.public_key())
