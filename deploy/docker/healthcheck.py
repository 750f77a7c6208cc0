#!/usr/bin/env python3
"""Container health probe: exit 0 when the URL answers 2xx within the timeout, else 1.

    healthcheck [URL]    # default http://127.0.0.1:$NCP_HEALTH_PORT/healthz

One word per argument, so it survives engines that split a healthcheck command on spaces (podman's
Docker-compatible API does).
"""

import os
import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{os.environ.get('NCP_HEALTH_PORT', '8000')}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=float(os.environ.get("NCP_HEALTH_TIMEOUT", "2"))) as answer:  # noqa: S310
            return 0 if 200 <= answer.status < 300 else 1
    except (OSError, urllib.error.URLError) as error:
        sys.stderr.write(f"unhealthy: {url}: {error}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
