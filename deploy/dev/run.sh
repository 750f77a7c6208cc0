#!/usr/bin/env bash
# `make run`: the whole product on one machine with embedded defaults (SQLite, dev keys, dev OIDC).
# Secrets are generated into var/dev on first run (git-ignored); each service contributes its
# process line in services/<name>/dev.procfile; honcho supervises them and stops all on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NCP_DEV_DIR="$PWD/var/dev"
mkdir -p "$NCP_DEV_DIR/data" "$NCP_DEV_DIR/tokens"
BIN="$PWD/.venv/bin"

[ -f "$NCP_DEV_DIR/keys/signing.key" ] || "$BIN/emrex" keys dev "$NCP_DEV_DIR/keys" >/dev/null
# One bearer token per calling service, as a Kubernetes Secret mount would hold them.
for caller in gateway registry-cache demo-client admin; do
  f="$NCP_DEV_DIR/tokens/$caller"
  [ -s "$f" ] || (umask 077; "$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$f")
done
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
