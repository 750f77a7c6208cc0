#!/usr/bin/env bash
# Installs the Debian packages the product and its tests need (the PDF font; independent verifiers,
# the HSM, the browser, compose validation) when missing and we are root; otherwise says what is missing.
set -euo pipefail
# `runtime`: what the product needs to run (`make run`); `test` (default): also the tools tests drive;
# `dashboard`: also Prometheus, for the dashboard picture (`make dashboard`, scripts/dashboard-snapshot.py).
declare -A need=(
  # a path instead of a command: the package is checked by one of its files (the transcript PDF's font)
  [/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf]=fonts-dejavu-core
)
if [ "${1:-test}" != runtime ]; then
  need+=(
    [xmlsec1]=xmlsec1
    [xmllint]=libxml2-utils
    [softhsm2-util]=softhsm2
    [chromium]=chromium
    [docker-compose]=docker-compose
    [openssl]=openssl
    [pdfsig]=poppler-utils
    [npm]=npm  # axe-core for the accessibility checks (tests/e2e/axe), the npm oidc-provider test
  )
fi
if [ "${1:-test}" = dashboard ]; then
  need+=([prometheus]=prometheus)
fi
missing=()
for cmd in "${!need[@]}"; do
  if [[ "$cmd" == /* ]]; then
    [ -f "$cmd" ] || missing+=("${need[$cmd]}")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "warning: missing system packages (install them as root): ${missing[*]}" >&2
fi
