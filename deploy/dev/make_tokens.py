"""Issue the development bearer tokens (make run): one per caller and callee, never shared between callees.

Layout under DIR/callers: one directory per callee, holding one file per caller it accepts, as a
Kubernetes Secret mount would. The callee reads its directory (NCP_<SVC>_CALLER_TOKENS_PATH); the caller
reads its one file in the callee's directory (e.g. NCP_GATEWAY_SIGNER_TOKEN_PATH=DIR/callers/signer/gateway).
The registry-cache's reads are public; its one token is the operator's, for POST /v1/refresh.
Existing tokens are kept.
"""

import argparse
import os
import secrets
from pathlib import Path

GRANTS: dict[str, tuple[str, ...]] = {
    "signer": ("gateway",),
    "sis-adapter": ("gateway",),
    "registry-cache": ("admin",),
}


def issue(dev_dir: Path) -> dict[tuple[str, str], Path]:
    """(callee, caller) -> token file; every token is distinct."""
    files: dict[tuple[str, str], Path] = {}
    for callee, callers in GRANTS.items():
        folder = dev_dir / "callers" / callee
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        for caller in callers:
            path = folder / caller
            if not path.is_file() or not path.read_text(encoding="utf-8").strip():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(secrets.token_urlsafe(32) + "\n")
            files[(callee, caller)] = path
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_dir", type=Path)
    issue(parser.parse_args(argv).dev_dir)


if __name__ == "__main__":
    main()
