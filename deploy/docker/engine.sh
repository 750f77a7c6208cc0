#!/usr/bin/env bash
# Prints the container engine to use: $ENGINE if set, else docker when its daemon answers, else podman.
set -euo pipefail
if [ -n "${ENGINE:-}" ]; then echo "$ENGINE"; exit 0; fi
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then echo docker; exit 0; fi
if command -v podman >/dev/null; then echo podman; exit 0; fi
echo "no container engine: install docker (docker.io) or podman" >&2
exit 1
