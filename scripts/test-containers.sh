#!/usr/bin/env bash
# `make test-containers`: builds every image from Debian packages alone (no image registry), starts
# docker-compose.yml in a network namespace of its own, imports results through the demo client (signature
# checked), restarts each container in turn with the flow after each restart, and stops everything.
# Needs root, podman (Debian: podman, buildah, runc, netavark, aardvark-dns), docker-compose, mmdebstrap,
# iproute2. ENGINE=docker uses Debian's docker.io instead, with a dockerd this script starts itself (it needs
# no system daemon). Everything this machine's setup needs beyond the product lives here, with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
PY="$ROOT/.venv/bin/python"
started=$SECONDS
say() { printf '[test-containers %4ds] %s\n' "$((SECONDS - started))" "$*"; }

[ "$(id -u)" -eq 0 ] || { echo "test-containers needs root (network namespace, rootful podman)" >&2; exit 1; }
export ENGINE="${ENGINE:-podman}"
case "$ENGINE" in
  podman) need=(podman buildah runc mmdebstrap docker-compose netavark aardvark-dns iptables) ;;
  docker) need=(docker.io runc mmdebstrap docker-compose iptables) ;;
  *) echo "ENGINE must be podman or docker" >&2; exit 2 ;;
esac
missing=()
for pkg in "${need[@]}"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         "${missing[@]}" >/dev/null; }
fi

work="$(mktemp -d /tmp/ncp-test-containers.XXXXXX)"
project="ncpct$$"
ns=""
pids=()
dropin=/etc/containers/containers.conf.d/90-ncp-test-containers.conf
cleanup() {
  rc=$?
  set +e
  if [ -n "${DOCKER_HOST:-}" ] && [ -f "$work/project/docker-compose.yml" ]; then
    [ $rc -ne 0 ] && docker-compose -p "$project" -f "$work/project/docker-compose.yml" logs --tail=40 >&2
    docker-compose -p "$project" -f "$work/project/docker-compose.yml" down -v --remove-orphans >/dev/null 2>&1
  fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  stop_dockerd
  [ -n "$ns" ] && ip netns del "$ns"
  [ -f "$work/created-dropin" ] && rm -f "$dropin"
  rm -rf "$work"
  say "done (exit $rc)"
}
trap cleanup EXIT
trap "exit 143" TERM INT HUP

# ENGINE=docker: a dockerd of this run's own (Debian's docker.io 20.10; no systemd here to start one), with a
# data root of its own so it never meets a system daemon's, and kept between runs as the layer cache.
docker_root=/var/lib/ncp-test-containers/docker
dockerd_pid=""
start_dockerd() {  # start_dockerd [nsenter ...] -- [dockerd options]
  local wrap=()
  while [ "$1" != -- ]; do wrap+=("$1"); shift; done
  shift
  "${wrap[@]}" dockerd --host "unix://$work/docker.sock" --data-root "$docker_root" --exec-root "$work/docker-exec" \
    --pidfile "$work/dockerd.pid" "$@" >>"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  export DOCKER_HOST="unix://$work/docker.sock"
  for _ in $(seq 100); do docker version >/dev/null 2>&1 && return 0; sleep 0.3; done
  tail -20 "$work/dockerd.log" >&2
  return 1
}
stop_dockerd() {
  [ -n "$dockerd_pid" ] || return 0
  kill "$dockerd_pid" 2>/dev/null
  wait "$dockerd_pid" 2>/dev/null
  dockerd_pid=""
}
if [ "$ENGINE" = docker ]; then
  # This machine has a Docker 28 CLI without buildx in /usr/local/bin, ahead of Debian's on PATH; it cannot
  # use BuildKit without buildx. Debian's CLI (20.10, BuildKit built in) is the one a Debian 12 user has.
  mkdir -p "$work/bin"
  ln -s /usr/bin/docker "$work/bin/docker"
  export PATH="$work/bin:$PATH"
  mkdir -p "$docker_root"
  # Builds: the daemon in the host's network namespace, but with no container network at all (no bridge, no
  # iptables rules, no IP forwarding): only the builds' `--network host` RUN steps reach the package index,
  # as podman's builds do. The stack later runs under a second daemon inside a namespace of its own.
  start_dockerd -- --bridge=none --iptables=false --ip-forward=false --ip-masq=false
fi

if [ "$ENGINE" = podman ]; then
  # This machine's quirks, handled here rather than in the product:
  #  - crun (podman's default runtime) refuses the host's hybrid cgroup v1/v2 layout; runc accepts it.
  #  - without CAP_SYS_RESOURCE the container cannot raise its limits to the host's defaults, so fixed
  #    defaults (nofile 20000, nproc 32768) are set for every container.
  if [ ! -f "$dropin" ]; then
    mkdir -p "$(dirname "$dropin")"
    cat > "$dropin" <<'EOF'
# Written by the EMREX NCP's scripts/test-containers.sh for its run; removed at its end.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
    touch "$work/created-dropin"
  fi
fi

# 1. Images, from the Debian mirror and the package index only. The machine's egress is TLS-inspected:
# its extra CA certificates go into the base so pip and uv inside the build trust them.
ca_args=""
compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null && ca_args="--ca-certs /usr/local/share/ca-certificates"
base=ncp-python-base:3.11-bookworm
# A base already built here is reused (a new one would invalidate every layer cache); NCP_REBUILD_BASE=1
# makes a fresh one. CI machines start without it.
if [ -n "${NCP_REBUILD_BASE:-}" ] || ! "$ENGINE" image inspect "$base" >/dev/null 2>&1; then
  say "building the base image from Debian packages"
  # shellcheck disable=SC2086
  bash deploy/docker/base-from-debian.sh -t "$base" $ca_args >"$work/base.log" 2>&1 || { tail -40 "$work/base.log"; exit 1; }
fi
say "building PostgreSQL from Debian packages"
build_fmt=()
[ "$ENGINE" = podman ] && build_fmt=(--format docker)
# Docker 20.10 builds with BuildKit only when asked (the Dockerfiles use RUN --mount); 23 and later by default.
[ "$ENGINE" = docker ] && export DOCKER_BUILDKIT=1
"$ENGINE" build "${build_fmt[@]}" --network host -f deploy/docker/postgres.Dockerfile --build-arg "BASE_IMAGE=$base" \
  -t ncp-postgres:15-bookworm . >"$work/postgres-build.log" 2>&1 || { tail -40 "$work/postgres-build.log"; exit 1; }
say "building the service images"
# RUN steps fetch from the package index (proxy), so they use the host's network; nothing else does.
PYTHON_IMAGE="$base" BUILD_NETWORK=host PY="$PY" bash scripts/build-images.sh
# The images a rebuild replaced stay as untagged layers in this run's own data root; drop them (the build
# cache stays).
[ "$ENGINE" = docker ] && docker image prune -f >/dev/null
# The production sis-adapter has no demo SIS: asked to seed, it stops with one line, not a traceback.
say "the production sis-adapter refuses to seed the demo"
if refusal="$("$ENGINE" run --rm --network none -e NCP_SIS_SEED_DEMO=true ncp-sis-adapter:0.1.0 2>&1)"; then
  echo "the production sis-adapter image started with NCP_SIS_SEED_DEMO=true" >&2; exit 1
fi
if ! grep -q "the demo SIS is not installed" <<< "$refusal" || grep -q Traceback <<< "$refusal"; then
  echo "$refusal" >&2; exit 1
fi

# 2. The stack, in a project directory of its own with freshly generated secrets (never the developer's).
# Ports other than the defaults, to show that they move everywhere together.
export NCP_GATEWAY_PORT=18000 NCP_OIDC_PORT=18010 NCP_DEMO_PORT=18020 NCP_POSTGRES_IMAGE=ncp-postgres:15-bookworm
mkdir -p "$work/project/deploy/docker"
cp docker-compose.yml "$work/project/"
cp deploy/docker/postgres-init.sql "$work/project/deploy/docker/"
PYTHON="$PY" bash deploy/dev/gen-secrets.sh "$work/project/deploy/dev/secrets" >/dev/null
compose=(docker-compose -p "$project" -f "$work/project/docker-compose.yml")
run_in_ns=()
if [ "$ENGINE" = podman ]; then
  # All container traffic stays in a network namespace made for this run: it has only loopback, so the
  # compose bridge inside it routes nowhere, and its ports cannot collide with the host's.
  ns="ncp-ct-$$"
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  # nsenter switches the network namespace only; `ip netns exec` would also remount /sys, hiding the cgroup
  # mounts runc needs ("no cgroup mount found in mountinfo").
  run_in_ns=(nsenter "--net=/var/run/netns/$ns")
  # docker-compose speaks the Docker API; podman serves it. Started inside the namespace so the networks and
  # port forwards it creates are there.
  "${run_in_ns[@]}" podman system service --time=0 "unix://$work/podman.sock" >"$work/podman-service.log" 2>&1 &
  pids+=($!)
  export DOCKER_HOST="unix://$work/podman.sock"
  for _ in $(seq 50); do [ -S "$work/podman.sock" ] && break; sleep 0.2; done
  # No systemd here, so podman runs no healthchecks by itself; compose's `service_healthy` waits on them.
  (
    while true; do
      for c in $(podman ps -q --filter "label=com.docker.compose.project=$project"); do
        podman healthcheck run "$c" >/dev/null 2>&1 || true
      done
      sleep 2
    done
  ) &
  pids+=($!)
else
  # The build daemon stops; the one that runs the stack starts inside a network namespace made for this run
  # (only loopback: its bridges and iptables rules live there and route nowhere). nsenter, not `ip netns
  # exec`, for the same reason as with podman (runc needs the host's /sys cgroup mounts).
  stop_dockerd
  ns="ncp-ct-$$"
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  run_in_ns=(nsenter "--net=/var/run/netns/$ns")
  start_dockerd "${run_in_ns[@]}" --
fi

healthy() {
  if [ "$ENGINE" = podman ]; then
    # Asked directly: after a restart podman still reports the health of the previous run for a while.
    [ "$(podman inspect --format '{{.State.Status}}' "$1")" = running ] && podman healthcheck run "$1" >/dev/null 2>&1
  else
    [ "$(docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1")" \
      = "running healthy" ]
  fi
}
# Every container must pass its healthcheck once since the call (each one checked until it has).
wait_healthy() {
  local pending=() still id
  read -r -a pending <<< "$("${compose[@]}" ps -q | tr '\n' ' ')"
  [ ${#pending[@]} -eq 7 ] || { "${compose[@]}" ps >&2; return 1; }
  for _ in $(seq 120); do
    still=()
    for id in "${pending[@]}"; do healthy "$id" || still+=("$id"); done
    [ ${#still[@]} -eq 0 ] && return 0
    pending=("${still[@]}")
    sleep 1
  done
  "${compose[@]}" ps >&2
  return 1
}
flow() {
  "${run_in_ns[@]}" "$PY" scripts/container_flow.py --demo "http://localhost:$NCP_DEMO_PORT"
}

say "starting the stack"
"${compose[@]}" up -d >"$work/up.log" 2>&1 || { cat "$work/up.log"; exit 1; }
wait_healthy
say "all services healthy; the flow"
flow
for service in postgres signer sis-adapter registry-cache ncp-gateway oidc-provider demo-client; do
  say "restarting $service"
  "${compose[@]}" restart "$service" >/dev/null 2>&1
  wait_healthy
  flow
done
say "every restart survived; stopping"
