#!/usr/bin/env bash
# Secrets and generated config for docker-compose.yml, written to deploy/dev/secrets/ (git-ignored) or $1.
# Idempotent: existing files are kept. Nothing here is ever committed.
#   bash deploy/dev/gen-secrets.sh && docker compose up --build
# Files are world-readable inside a 0700 directory: compose (without swarm) bind-mounts them with the
# host's owner and mode, and the containers run as uid 10001.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-deploy/dev/secrets}"
mkdir -p "$out"
chmod 700 "$out"
PY="${PYTHON:-python3}"
random() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))'; }
put() { [ -s "$out/$1" ] || { random > "$out/$1"; chmod 644 "$out/$1"; }; }

if [ ! -s "$out/signing.key" ]; then
  if [ -x .venv/bin/emrex ]; then
    .venv/bin/emrex keys dev "$out/pki" >/dev/null
    cp "$out/pki/signing.key" "$out/signing.key"; cp "$out/pki/signing.crt" "$out/signing.crt"
    rm -rf "$out/pki"
  else
    # Without the workspace venv: a self-signed RSA-3072 development certificate.
    openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days 365 -subj "/C=FI/O=EMREX NCP development/CN=emrex-ncp.localhost" \
      -keyout "$out/signing.key" -out "$out/signing.crt" 2>/dev/null
  fi
  chmod 644 "$out/signing.key" "$out/signing.crt"
fi
# One bearer token per caller and callee (<caller>-<callee>-token): the gateway holds one for the signer and
# another for the sis-adapter; the registry-cache takes one only for its admin endpoint (reads are public).
for name in gateway-signer-token gateway-sis-adapter-token admin-registry-cache-token oidc-client-secret \
            gateway-session-secret gateway-pseudonym-key postgres-password; do
  put "$name"
done
[ -s "$out/oidc-client-id" ] || echo "ncp-gateway-compose" > "$out/oidc-client-id"
# Each callee's view, only the tokens issued for it: caller=token lines (ncp_runtime.CallerTokens reads them).
callers() {  # callers CALLEE CALLER...
  local callee="$1"; shift
  for caller in "$@"; do echo "$caller=$(cat "$out/$caller-$callee-token")"; done > "$out/$callee-callers"
  chmod 644 "$out/$callee-callers"
}
callers signer gateway
callers sis-adapter gateway
callers registry-cache admin
# Database URLs carry the password, so they are secret files too (NCP_*_DATABASE_URL_FILE).
pw="$(cat "$out/postgres-password")"
for db in gateway registry sis; do
  echo "postgresql+asyncpg://ncp:${pw}@postgres:5432/${db}" > "$out/${db}-database-url"
  chmod 644 "$out/${db}-database-url"
done
# EMREG listing this node as the browser reaches it: localhost on the published gateway port (rewritten on
# every run, so run this again after changing NCP_GATEWAY_PORT).
"$PY" deploy/dev/make_emreg.py --url "http://localhost:${NCP_GATEWAY_PORT:-8000}/emrex" --cert "$out/signing.crt" \
  --institution aurora.example.fi --institution nordlys.example.se --institution rheinau.example.de \
  --institution aegean.example.gr --out "$out/emreg.json"
chmod 644 "$out/emreg.json"
echo "compose secrets are in $out"
