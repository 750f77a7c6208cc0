"""Write the development EMREX 2.0 client list for the registry-cache (make run, e2e).

The demo client is registered with its own key pair, generated here on first use (the private key stays
in var/dev, mode 0600, never committed) and its redirect URI on loopback. Every client of the file that
NCP_DEV_EXTRA_CLIENTS names is registered beside it; that file has the same format as the list itself:
{"clients": [{"client_id", "redirect_uris", "jwks" | "jwks_uri", "name"}]}. The result is checked with the
registry-cache's own rules (http allowed on loopback only), so a mistake fails `make run` with the reason.
"""

import argparse
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey


def demo_key(path: Path) -> ECKey:
    """The demo client's ES256 key: made once, reused on every start (its registration must not change)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    key = ECKey.import_key(path.read_bytes())
    key.ensure_kid()  # RFC 7638 thumbprint, as the demo client computes it
    return key


def demo_entry(client_id: str, redirect_uri: str, name: str, key: ECKey) -> dict[str, Any]:
    public = {**key.as_dict(private=False), "use": "sig", "alg": "ES256"}
    return {"client_id": client_id, "name": name, "redirect_uris": [redirect_uri], "jwks": {"keys": [public]}}


def extra_clients(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SystemExit(f"NCP_DEV_EXTRA_CLIENTS: cannot read {path}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("clients"), list):
        raise SystemExit(f'NCP_DEV_EXTRA_CLIENTS: {path} must hold {{"clients": [...]}}')
    return list(document["clients"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--key", type=Path, required=True, help="the demo client's private key (made if missing)")
    parser.add_argument("--client-id", default="demo-client-dev")
    parser.add_argument("--redirect-uri", required=True, help="http://127.0.0.1:8020/emrex2/callback")
    parser.add_argument("--name", default="Demo University admissions")
    parser.add_argument("--extra", type=Path, help="a client list to register too (NCP_DEV_EXTRA_CLIENTS)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    clients = [demo_entry(args.client_id, args.redirect_uri, args.name, demo_key(args.key))]
    if args.extra is not None:
        clients += extra_clients(args.extra)
    document = {"clients": clients}
    body = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    from ncp_registry_cache.domain.clients import ClientsInvalid, parse_clients

    try:
        parse_clients(body, allow_http_loopback=True)
    except ClientsInvalid as exc:
        where = f" (check {args.extra})" if args.extra is not None else ""
        raise SystemExit(f"the development client list is not valid{where}: {exc}") from None
    tmp = args.out.with_suffix(".tmp")
    tmp.write_bytes(body)
    tmp.replace(args.out)


if __name__ == "__main__":
    main()
