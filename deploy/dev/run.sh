#!/usr/bin/env bash
# `make run`: the whole product on one machine with embedded defaults (SQLite, dev keys, dev OIDC).
# Secrets are generated into var/dev on first run (git-ignored); each service contributes its
# process line in services/<name>/dev.procfile, deploy/dev/*.procfile add the development OIDC
# provider and the readiness banner; honcho supervises them and stops all on Ctrl-C.
# Ports: NCP_GATEWAY_PORT NCP_SIGNER_PORT NCP_REGISTRY_PORT NCP_SIS_PORT NCP_OIDC_PORT NCP_DEMO_PORT.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NCP_DEV_DIR="${NCP_DEV_DIR:-$PWD/var/dev}"
mkdir -p "$NCP_DEV_DIR/data"
BIN="$PWD/.venv/bin"

export NCP_GATEWAY_PORT="${NCP_GATEWAY_PORT:-8000}" NCP_SIGNER_PORT="${NCP_SIGNER_PORT:-8001}"
export NCP_REGISTRY_PORT="${NCP_REGISTRY_PORT:-8002}" NCP_SIS_PORT="${NCP_SIS_PORT:-8003}"
export NCP_OIDC_PORT="${NCP_OIDC_PORT:-8010}" NCP_DEMO_PORT="${NCP_DEMO_PORT:-8020}"
for port in "$NCP_GATEWAY_PORT" "$NCP_SIGNER_PORT" "$NCP_REGISTRY_PORT" "$NCP_SIS_PORT" "$NCP_OIDC_PORT" \
            "$NCP_DEMO_PORT"; do
  if "$BIN/python" -c 'import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$port"; then
    echo "port $port on 127.0.0.1 is in use; stop what uses it or choose other ports (NCP_*_PORT)" >&2
    exit 1
  fi
done

[ -f "$NCP_DEV_DIR/keys/signing.key" ] || "$BIN/emrex" keys dev "$NCP_DEV_DIR/keys" >/dev/null
secret() { "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))'; }
# One bearer token per caller and callee: $NCP_DEV_DIR/callers/<callee>/<caller> (deploy/dev/make_tokens.py).
"$BIN/python" deploy/dev/make_tokens.py "$NCP_DEV_DIR"
# The gateway's client at the development OIDC provider (registered there at its start).
[ -s "$NCP_DEV_DIR/oidc-client-id" ] || echo "ncp-gateway-dev" > "$NCP_DEV_DIR/oidc-client-id"
[ -s "$NCP_DEV_DIR/oidc-client-secret" ] || (umask 077; secret > "$NCP_DEV_DIR/oidc-client-secret")
# Gateway cookie signing and audit pseudonym keys.
for name in session-secret pseudonym-key; do
  [ -s "$NCP_DEV_DIR/$name" ] || (umask 077; secret > "$NCP_DEV_DIR/$name")
done
# EMREG listing this node with its signing certificate, for the registry-cache (rewritten each start:
# the port may change). Institutions: the demo SIS seed's SCHAC codes.
institutions=()
IFS=',' read -r -a dev_institutions <<< "${NCP_DEV_INSTITUTIONS:-aurora.example.fi,nordlys.example.se,rheinau.example.de,aegean.example.gr}"
for i in "${dev_institutions[@]}"; do institutions+=(--institution "$i"); done
"$BIN/python" deploy/dev/make_emreg.py --url "http://127.0.0.1:$NCP_GATEWAY_PORT/emrex" \
  --cert "$NCP_DEV_DIR/keys/signing.crt" --acronym DEV --country FI "${institutions[@]}" --out "$NCP_DEV_DIR/emreg.json" \
  --oauth-base "http://127.0.0.1:$NCP_GATEWAY_PORT"

# EMREX 2.0: the demo client's own key pair (made once) and the client list the registry-cache reads, with
# the demo client and every client of the file NCP_DEV_EXTRA_CLIENTS names (README: "Trying your own EMREX 2.0 client").
extra_clients=()
if [ -n "${NCP_DEV_EXTRA_CLIENTS:-}" ]; then extra_clients=(--extra "$NCP_DEV_EXTRA_CLIENTS"); fi
"$BIN/python" deploy/dev/make_clients.py --key "$NCP_DEV_DIR/keys/demo-client-emrex2.key" \
  --redirect-uri "http://127.0.0.1:$NCP_DEMO_PORT/emrex2/callback" "${extra_clients[@]}" --out "$NCP_DEV_DIR/clients.json"

procfile="$NCP_DEV_DIR/Procfile"
: > "$procfile"
for p in services/*/dev.procfile deploy/dev/*.procfile; do
  [ -f "$p" ] && cat "$p" >> "$procfile"
done
if [ ! -s "$procfile" ]; then
  echo "no services to start yet" >&2
  exit 1
fi
export PATH="$BIN:$PATH"
exec "$BIN/honcho" -f "$procfile" -d "$PWD" start
