#!/usr/bin/env bash
# Installs everything the tests use on a Debian 12 machine (run as root or with sudo available):
# the C libraries spacecast links, the independent judges (ffmpeg, mpg123, opusdec, mp3val), the
# real room servers (Janus from Debian, LiveKit v1.13.5 from the Go module proxy), a real
# S3-compatible server (versitygw v1.8.0 from the Go module proxy) and the aws CLI, NATS with
# JetStream (nats-server v2.15.3 from the Go module proxy), headless
# Chromium with playwright-core and livekit-client from npm, the namespace tools, and golangci-lint
# (pinned, from the Go module proxy) for CI's lint step. Idempotent: what is installed already is
# skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
# as_root, apt_install: root directly, or sudo for another user.
source scripts/setup.sh

pkgs=(
  gcc pkg-config libmp3lame-dev libopus-dev libopusfile-dev libsoxr-dev # build
  ffmpeg mpg123 opus-tools mp3val lame espeak-ng                        # judges, test speech
  janus                                                                  # a real room server
  chromium                                                               # a real browser speaker
  python3-podcastparser libxml2-utils                                    # feed judges: gPodder's parser, xmllint
  iproute2 util-linux coreutils                                          # network namespaces
)
# The aws CLI judges what lands in a bucket (push, pull); Debian's awscli, unless one is installed.
if ! command -v aws >/dev/null; then
  pkgs+=(awscli)
fi
# playwright-core needs Node 20 or newer; Debian 12's nodejs is 18, so an installed newer node
# (NodeSource, nvm) is used when there is one.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  pkgs+=(nodejs npm)
fi
apt_install "${pkgs[@]}"
# Debian's janus package starts a system service; the tests start their own, in a namespace.
if command -v systemctl >/dev/null && systemctl is-active --quiet janus 2>/dev/null; then
  as_root systemctl disable --now janus >/dev/null 2>&1 || true
fi

# LiveKit: the last release that installs from the module proxy (see ../shared/RESEARCH.md §2).
gobin="$(go env GOPATH)/bin"
if [ ! -x "$gobin/server" ] && ! command -v livekit-server >/dev/null; then
  echo "test-setup: go install livekit-server v1.13.5 (a few minutes the first time)"
  go install github.com/livekit/livekit-server/cmd/server@v1.13.5
fi

# versitygw: the S3-compatible server the object-storage tests run (Object Lock and legal holds,
# checksums), Apache-2.0, ~70 s to build the first time. Skipped when that version is installed
# (internal/testutil/s3server checks the same version).
versitygw_version=v1.8.0
if ! go version -m "$gobin/versitygw" 2>/dev/null | grep -q "mod[[:space:]]*github.com/versity/versitygw[[:space:]]*$versitygw_version"; then
  echo "test-setup: go install versitygw $versitygw_version (about a minute the first time)"
  go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version"
fi

# nats-server: the NATS server with JetStream the fleet's tests run (work-queue stream, key-value
# bucket), Apache-2.0. Debian 12's nats-server is 2.9.10; the tests pin this version
# (internal/testutil/natsserver checks it). Skipped when that version is installed.
nats_version=v2.15.3
if ! go version -m "$gobin/nats-server" 2>/dev/null | grep -q "mod[[:space:]]*github.com/nats-io/nats-server/v2[[:space:]]*$nats_version"; then
  echo "test-setup: go install nats-server $nats_version (about a minute the first time)"
  go install "github.com/nats-io/nats-server/v2@$nats_version"
fi

# golangci-lint, pinned, for .ci/run's lint step (configuration: .golangci.yml). Skipped when
# that version is installed already.
golangci_version=v2.15.0
if ! "$gobin/golangci-lint" version 2>/dev/null | grep -q "version ${golangci_version#v} "; then
  echo "test-setup: go install golangci-lint $golangci_version (a minute or two the first time)"
  go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version"
fi

# The browser speaker's npm packages, pinned by package-lock.json.
if [ -f testdata/browser/package-lock.json ] && [ ! -d testdata/browser/node_modules ]; then
  echo "test-setup: npm ci (playwright-core, livekit-client)"
  npm ci --prefix testdata/browser --no-audit --no-fund --loglevel=error
fi
