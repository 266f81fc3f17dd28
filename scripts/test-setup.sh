#!/usr/bin/env bash
# Installs everything the tests use on a Debian 12 machine (run as root or with sudo available):
# the C libraries spacecast links, the independent judges (ffmpeg, mpg123, opusdec, mp3val), the
# real room servers (Janus from Debian, LiveKit v1.13.5 from the Go module proxy), headless
# Chromium with playwright-core and livekit-client from npm, and the namespace tools. Idempotent:
# what is installed already is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

pkgs=(
  gcc pkg-config libmp3lame-dev libopus-dev libopusfile-dev libsoxr-dev # build
  ffmpeg mpg123 opus-tools mp3val lame espeak-ng                        # judges, test speech
  janus                                                                  # a real room server
  chromium                                                               # a real browser speaker
  python3-podcastparser libxml2-utils                                    # feed judges: gPodder's parser, xmllint
  iproute2 util-linux coreutils                                          # network namespaces
)
# playwright-core needs Node 20 or newer; Debian 12's nodejs is 18, so an installed newer node
# (NodeSource, nvm) is used when there is one.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  pkgs+=(nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test-setup: apt-get install ${missing[*]}"
  # Keep apt from starting a system Janus on the host's interfaces: the tests start their own.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$policy" ]; then $SUDO rm -f "$policy"; fi
fi
# Debian's janus package starts a system service; the tests start their own, in a namespace.
if command -v systemctl >/dev/null && systemctl is-active --quiet janus 2>/dev/null; then
  $SUDO systemctl disable --now janus >/dev/null 2>&1 || true
fi

# LiveKit: the last release that installs from the module proxy (see ../shared/RESEARCH.md §2).
gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/server" ] && ! command -v livekit-server >/dev/null; then
  echo "test-setup: go install livekit-server v1.13.5 (a few minutes the first time)"
  go install github.com/livekit/livekit-server/cmd/server@v1.13.5
fi

# The browser speaker's npm packages, pinned by package-lock.json.
if [ -f testdata/browser/package-lock.json ] && [ ! -d testdata/browser/node_modules ]; then
  echo "test-setup: npm ci (playwright-core, livekit-client)"
  npm ci --prefix testdata/browser --no-audit --no-fund --loglevel=error
fi
