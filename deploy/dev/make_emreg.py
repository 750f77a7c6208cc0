"""Write the development EMREG file listing this node, signed-by certificate and all (make run, e2e).

EMREG format: {"emps": [{"url", "acronym", "countryCode", "institutions", "pubKey"}], "countries": [...]}.
pubKey is the node's signing certificate (the first certificate of the PEM chain). The real EMREG
schema allows https URLs only; the registry-cache accepts http for loopback development. With the EMREX 2.0
URLs given, the entry also carries authorizationUrl, tokenUrl, resourceUrl, supportedDataFormats and the JWKS
of the signing key (kid = RFC 7638 thumbprint, as the signer names it in X-Signature).
Runs on Python 3.8 and later (gen-secrets.sh may use macOS's /usr/bin/python3): annotations stay unevaluated
(`from __future__ import annotations`), so `X | None` and `list[str]` in them are fine.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc.jwk import ECKey, RSAKey

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.S)


def emreg(url: str, cert_pem: bytes, *, acronym: str, country: str, institutions: list[str]) -> dict[str, object]:
    first = _PEM.search(cert_pem)
    if first is None:
        raise ValueError("no PEM certificate found")
    return {
        "emps": [{
            "url": url, "acronym": acronym, "countryCode": country, "institutions": institutions,
            "pubKey": first.group().decode("ascii").strip() + "\n",
        }],
        "countries": [{"countryCode": country, "countryName": "Development", "singleFetch": False}],
    }


def emrex2_members(cert_pem: bytes, authorization_url: str, token_url: str, resource_url: str) -> dict[str, Any]:
    cert = x509.load_pem_x509_certificate(cert_pem)
    public: Any = cert.public_key()
    is_ec = isinstance(public, ec.EllipticCurvePublicKey)
    key = ECKey.import_key(public) if is_ec else RSAKey.import_key(public)
    jwk = {**key.as_dict(private=False), "kid": key.thumbprint(), "use": "sig", "alg": "ES256" if is_ec else "RS256",
           "x5c": [base64.b64encode(cert.public_bytes(Encoding.DER)).decode()]}
    schema = "https://raw.githubusercontent.com/emrex-eu/elmo-schemas/v2.0.0/schema.xsd"
    return {"authorizationUrl": authorization_url, "tokenUrl": token_url, "resourceUrl": resource_url,
            "supportedDataFormats": [{"name": "elmo", "versions": ["1.7.0", "2.0.0"], "schemaUrl": schema},
                                     {"name": "userinfo", "versions": ["2.0.0"], "schemaUrl": schema},
                                     {"name": "pdf"}, {"name": "pdf_metadata"}],
            "jwks": {"keys": [jwk]}}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the node's entry URL (http://127.0.0.1:8000/emrex)")
    parser.add_argument("--cert", type=Path, required=True, help="PEM chain, signing certificate first")
    parser.add_argument("--acronym", default="DEV-NCP")
    parser.add_argument("--country", default="FI")
    parser.add_argument("--institution", action="append", default=[])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--oauth-base", help="EMREX 2.0: the gateway's base URL (adds /oauth2/authorize, "
                                             "/oauth2/token, /results and the JWKS to the entry)")
    args = parser.parse_args(argv)
    document = emreg(args.url, args.cert.read_bytes(), acronym=args.acronym, country=args.country,
                     institutions=args.institution)
    if args.oauth_base:
        base = args.oauth_base.rstrip("/")
        members = emrex2_members(args.cert.read_bytes(), f"{base}/oauth2/authorize", f"{base}/oauth2/token",
                                 f"{base}/results")
        for entry in document["emps"]:  # type: ignore[attr-defined]
            entry.update(members)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)


if __name__ == "__main__":
    main()
