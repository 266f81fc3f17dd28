#!/usr/bin/env bash
# Installs the C libraries spacecast links (LAME, libopus, libopusfile, libsoxr) and the compiler
# cgo needs, on Debian 12 or Ubuntu: as root with apt-get, or through sudo for another user.
# Idempotent: what is installed already is skipped. scripts/test-setup.sh runs it first.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# as_root runs a command as root: directly when we are root (containers and fresh cloud images
# have no sudo), otherwise through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    echo "setup: $* needs root: run this script as root, or install sudo" >&2
    exit 1
  fi
}

# missing prints the packages of "$@" that dpkg does not have installed.
missing() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

# apt_install installs the packages that are missing. Services a package would start (Janus)
# are kept from starting on the host's interfaces: the tests start their own.
apt_install() {
  local need
  mapfile -t need < <(missing "$@")
  [ "${#need[@]}" -gt 0 ] || return 0
  echo "setup: apt-get install ${need[*]}"
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
  fi
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [ -n "$policy" ]; then as_root rm -f "$policy"; fi
}

# Sourced by test-setup.sh for its helpers; run, it installs the build's libraries.
if [ "${BASH_SOURCE[0]:-}" = "$0" ]; then
  if ! command -v go >/dev/null; then
    echo "setup: go is not on the PATH: install Go 1.26 or newer (https://go.dev/doc/install)" >&2
    exit 1
  fi
  apt_install gcc pkg-config libmp3lame-dev libopus-dev libopusfile-dev libsoxr-dev
fi
