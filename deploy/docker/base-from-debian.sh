#!/usr/bin/env bash
# Builds the Python base image from Debian packages only (no image registry needed), for air-gapped
# builders that reach a Debian mirror and a package index (proxy). The service Dockerfile takes it as
#   --build-arg PYTHON_IMAGE=ncp-python-base:3.11-bookworm
# Usage: deploy/docker/base-from-debian.sh [-t TAG] [--sources FILE] [--ca-certs DIR]
#   -t TAG          image name (default ncp-python-base:3.11-bookworm)
#   --sources FILE  APT sources for the image (.sources or .list); default: this host's Debian sources,
#                   else http://deb.debian.org/debian
#   --ca-certs DIR  extra CA certificates (*.crt) to trust, e.g. a TLS-inspecting proxy's
# Needs root (or fakeroot/unshare as mmdebstrap allows), mmdebstrap (or debootstrap), and docker or podman.
set -euo pipefail
tag=ncp-python-base:3.11-bookworm
sources=""
ca_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -t) tag="$2"; shift 2 ;;
    --sources) sources="$2"; shift 2 ;;
    --ca-certs) ca_dir="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
suite=bookworm
engine="$(bash "$(dirname "$0")/engine.sh")"
if [ -z "$sources" ]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [ -s "$f" ] && grep -q "$suite" "$f"; then sources="$f"; break; fi
  done
fi
# What python:3.11-slim offers that the service Dockerfile relies on: python (python-is-python3), venv
# with pip (python3-venv), TLS roots, useradd (passwd is in minbase).
packages=python3.11,python3-venv,python-is-python3,ca-certificates,tzdata
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs.tar"
if command -v mmdebstrap >/dev/null; then
  hooks=()
  if [ -n "$ca_dir" ]; then
    hooks+=(--customize-hook="cp $ca_dir/*.crt \"\$1/usr/local/share/ca-certificates/\" && chroot \"\$1\" update-ca-certificates >/dev/null")
  fi
  # minbase: dpkg, apt and essential packages only; docs and man pages dropped to keep the image small.
  mmdebstrap --variant=minbase --include="$packages" --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    "${hooks[@]}" "$suite" "$rootfs" ${sources:+"$sources"}
else
  mirror="$(grep -m1 -oE 'https?://[^ ]+/debian/?' "${sources:-/dev/null}" 2>/dev/null || echo http://deb.debian.org/debian)"
  debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" "$mirror"
  if [ -n "$ca_dir" ]; then
    cp "$ca_dir"/*.crt "$work/root/usr/local/share/ca-certificates/"
    chroot "$work/root" update-ca-certificates >/dev/null
  fi
  echo "deb $mirror $suite main" > "$work/root/etc/apt/sources.list"
  rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin
  tar -C "$work/root" -cf "$rootfs" .
fi
# SSL_CERT_FILE and PIP_CERT: uv and pip then trust the system store, extra CA certificates included.
"$engine" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["python3"]' \
  "$rootfs" "$tag" >/dev/null
echo "$tag"
