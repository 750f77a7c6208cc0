#!/usr/bin/env bash
# `make images`: builds every image docker-compose.yml names (the five services, the sis-adapter as its
# development image with the demo SIS, and the development OIDC provider), with the build arguments and targets
# written there, and the production sis-adapter image, using docker or podman (ENGINE overrides).
#   PYTHON_IMAGE=...        base image (default: the Dockerfile's python:3.11-slim)
#   BASE=debian             first build the base from Debian packages (deploy/docker/base-from-debian.sh),
#                           and PostgreSQL on it (ncp-postgres:15-bookworm, for NCP_POSTGRES_IMAGE): no registry
#   BASE_ARGS="--ca-certs DIR"  extra arguments for that script
#   BUILD_NETWORK=host      the network of the build's RUN steps (they fetch from the package index)
set -euo pipefail
cd "$(dirname "$0")/.."
engine="$(bash deploy/docker/engine.sh)"
PY="${PY:-.venv/bin/python}"
if [ "${BASE:-}" = debian ]; then
  # shellcheck disable=SC2086
  PYTHON_IMAGE="$(ENGINE="$engine" bash deploy/docker/base-from-debian.sh ${BASE_ARGS:-})"
fi
opts=()
# podman/buildah write OCI images by default, which have no HEALTHCHECK; the Docker format keeps it.
[ "$(basename "$engine")" = podman ] && opts+=(--format docker)
# The Dockerfile needs BuildKit (RUN --mount): Docker 23 and later use it by default, 20.10 (Debian 12's
# docker.io) only when asked.
[ "$(basename "$engine")" = docker ] && export DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-1}"
[ -n "${BUILD_NETWORK:-}" ] && opts+=(--network "$BUILD_NETWORK")
common=(-f deploy/docker/service.Dockerfile "${opts[@]}")
[ -n "${PYTHON_IMAGE:-}" ] && common+=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
# One line per image: name, target, then KEY=VALUE build arguments (docker-compose.yml, plus the production
# sis-adapter: compose runs its development image with the demo SIS).
specs="$("$PY" scripts/image_specs.py)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
while read -r image target args; do
  build_args=()
  for arg in $args; do build_args+=(--build-arg "$arg"); done
  start=$SECONDS
  if ! "$engine" build "${common[@]}" --target "$target" "${build_args[@]}" -t "$image" . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "build of $image failed" >&2
    exit 1
  fi
  echo "$image built in $((SECONDS - start)) s"
done <<< "$specs"
if [ "${BASE:-}" = debian ]; then
  # No registry, so no public postgres image either: Debian's PostgreSQL on the same base.
  start=$SECONDS
  if ! "$engine" build "${opts[@]}" -f deploy/docker/postgres.Dockerfile --build-arg "BASE_IMAGE=$PYTHON_IMAGE" \
      -t ncp-postgres:15-bookworm . >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "build of ncp-postgres:15-bookworm failed" >&2
    exit 1
  fi
  echo "ncp-postgres:15-bookworm built in $((SECONDS - start)) s (compose: NCP_POSTGRES_IMAGE=ncp-postgres:15-bookworm)"
fi
