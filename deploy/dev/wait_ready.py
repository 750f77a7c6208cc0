"""`make run` readiness banner: waits until every process answers, then prints where to start.

Stays alive afterwards (honcho stops everything when one of its processes exits).
"""

import contextlib
import os
import signal
import sys
import threading
import time
import urllib.request
from urllib.error import URLError


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def endpoints() -> dict[str, str]:
    return {
        "ncp-gateway": f"http://127.0.0.1:{_port('NCP_GATEWAY_PORT', 8000)}/readyz",
        "signer": f"http://127.0.0.1:{_port('NCP_SIGNER_PORT', 8001)}/readyz",
        "registry-cache": f"http://127.0.0.1:{_port('NCP_REGISTRY_PORT', 8002)}/readyz",
        "sis-adapter": f"http://127.0.0.1:{_port('NCP_SIS_PORT', 8003)}/readyz",
        "oidc-provider": f"http://127.0.0.1:{_port('NCP_OIDC_PORT', 8010)}/.well-known/openid-configuration",
        "demo-client": f"http://127.0.0.1:{_port('NCP_DEMO_PORT', 8020)}/readyz",
    }


def is_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback http only)
            return bool(response.status == 200)
    except (URLError, OSError, ValueError):
        return False


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deadline = time.monotonic() + float(os.environ.get("NCP_DEV_READY_TIMEOUT", "120"))
    pending = endpoints()
    while pending and time.monotonic() < deadline:
        pending = {name: url for name, url in pending.items() if not is_ready(url)}
        if pending:
            threading.Event().wait(0.5)
    if pending:
        say("NOT READY after the timeout: " + ", ".join(f"{n} ({u})" for n, u in pending.items()))
        say("see the log lines above; the rest keeps running (Ctrl-C stops everything)")
    else:
        demo = f"http://127.0.0.1:{_port('NCP_DEMO_PORT', 8020)}/"
        say("")
        say("=" * 72)
        say(f"  EMREX NCP is running. Open the demo client:  {demo}")
        say("  Click 'Import my results from the national node', then log in as:")
        say("    demo-learner-1       results from two institutions")
        say("    demo-learner-empty   no results (NCP_NO_RESULTS)")
        say(f"  Gateway http://127.0.0.1:{_port('NCP_GATEWAY_PORT', 8000)}/emrex"
            f" · OIDC provider http://127.0.0.1:{_port('NCP_OIDC_PORT', 8010)}/")
        say("  Ctrl-C stops everything.")
        say("=" * 72)
    while True:
        signal.pause()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
