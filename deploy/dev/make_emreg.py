"""Write the development EMREG file listing this node, signed-by certificate and all (make run, e2e).

EMREG format: {"emps": [{"url", "acronym", "countryCode", "institutions", "pubKey"}], "countries": [...]}.
pubKey is the node's signing certificate (the first certificate of the PEM chain). The real EMREG
schema allows https URLs only; the registry-cache accepts http for loopback development.
Runs on Python 3.8 and later (gen-secrets.sh may use macOS's /usr/bin/python3): annotations stay unevaluated
(`from __future__ import annotations`), so `X | None` and `list[str]` in them are fine.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the node's entry URL (http://127.0.0.1:8000/emrex)")
    parser.add_argument("--cert", type=Path, required=True, help="PEM chain, signing certificate first")
    parser.add_argument("--acronym", default="DEV-NCP")
    parser.add_argument("--country", default="FI")
    parser.add_argument("--institution", action="append", default=[])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    document = emreg(args.url, args.cert.read_bytes(), acronym=args.acronym, country=args.country,
                     institutions=args.institution)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)


if __name__ == "__main__":
    main()
