#!/usr/bin/env bash
# Create the Secrets the k8s/ manifests expect, from files (never from the repository).
#   deploy/k8s-secrets.sh NAMESPACE --dev         development: generated values (deploy/dev/gen-secrets.sh),
#                                                 in-cluster PostgreSQL URLs and the dev EMREG ConfigMap
#   deploy/k8s-secrets.sh NAMESPACE DIR           production: your files in DIR:
#       signing.key signing.crt
#       gateway-signer-token gateway-sis-adapter-token admin-registry-cache-token   (one per caller and callee)
#       gateway-session-secret gateway-pseudonym-key oidc-client-secret
#       gateway-database-url registry-database-url sis-database-url   (postgresql+asyncpg://user:password@host:5432/db)
#       internal-ca.crt signer-tls.crt signer-tls.key gateway-client.crt gateway-client.key
#                        (the signer's mutual TLS; deploy/README.md "The signer's mutual TLS")
# Prints nothing secret; applies with `kubectl apply` (server-side dry runs: KUBECTL_FLAGS=--dry-run=server).
set -euo pipefail
cd "$(dirname "$0")/.."
ns="${1:?namespace}"
src="${2:?--dev or a directory}"
kc() { kubectl -n "$ns" "$@"; }
apply() { kubectl apply -n "$ns" ${KUBECTL_FLAGS:-} -f -; }

if [ "$src" = "--dev" ]; then
  bash deploy/dev/gen-secrets.sh >/dev/null
  src=deploy/dev/secrets
  pw="$(cat "$src/postgres-password")"
  for svc in gateway registry sis; do
    printf 'postgresql+asyncpg://ncp:%s@ncp-postgres:5432/%s' "$pw" "$svc" > "$src/$svc-database-url.k8s"
  done
  gateway_db="$src/gateway-database-url.k8s"; registry_db="$src/registry-database-url.k8s"
  sis_db="$src/sis-database-url.k8s"
  kc create configmap ncp-dev-emreg --from-file=emreg.json="$src/emreg.json" --dry-run=client -o yaml | apply
  extra=(--from-file=postgres-password="$src/postgres-password")
else
  gateway_db="$src/gateway-database-url"; registry_db="$src/registry-database-url"; sis_db="$src/sis-database-url"
  extra=()
  # The signer's mutual TLS (production overlay): server and client certificates from one internal CA.
  kc create secret generic ncp-signer-tls --type=kubernetes.io/tls --from-file=tls.crt="$src/signer-tls.crt" \
    --from-file=tls.key="$src/signer-tls.key" --from-file=ca.crt="$src/internal-ca.crt" --dry-run=client -o yaml | apply
  kc create secret generic ncp-gateway-signer-client --type=kubernetes.io/tls \
    --from-file=tls.crt="$src/gateway-client.crt" --from-file=tls.key="$src/gateway-client.key" \
    --from-file=ca.crt="$src/internal-ca.crt" --dry-run=client -o yaml | apply
fi

kc create secret tls ncp-signer-key --key="$src/signing.key" --cert="$src/signing.crt" \
  --dry-run=client -o yaml | apply
# One Secret per caller and callee, so each pod mounts exactly the tokens meant for it.
for pair in gateway-signer gateway-sis-adapter admin-registry-cache; do
  kc create secret generic "ncp-token-$pair" --from-file=token="$src/$pair-token" --dry-run=client -o yaml | apply
done
kc create secret generic ncp-gateway-secrets \
  --from-file=session-secret="$src/gateway-session-secret" --from-file=pseudonym-key="$src/gateway-pseudonym-key" \
  --from-file=oidc-client-secret="$src/oidc-client-secret" --dry-run=client -o yaml | apply
kc create secret generic ncp-database --from-file=gateway-url="$gateway_db" \
  --from-file=registry-url="$registry_db" --from-file=sis-url="$sis_db" "${extra[@]}" \
  --dry-run=client -o yaml | apply
echo "secrets applied in namespace $ns"
