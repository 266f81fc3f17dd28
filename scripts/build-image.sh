#!/usr/bin/env bash
# Builds spacecast's container image without Docker and without a registry, then runs the image's
# root filesystem to check it: what CI can do with only the Go module proxy and Debian's packages.
#
#   scripts/build-image.sh [OUT_DIR]        (default OUT_DIR: dist/image; as root)
#
# 1. the binary, as .goreleaser.yaml builds it (cgo, -tags nolibopusfile, -trimpath, -s -w);
# 2. a minimal Debian bookworm root filesystem (mmdebstrap, variant essential, merged /usr) with only
#    the runtime libraries the binary links (libopus0, libmp3lame0, libsoxr0) plus ca-certificates
#    and tzdata: the same list as the Dockerfile's runtime stage (deploy_test checks they agree);
#    a user spacecast (10001:10001), the binary at /usr/local/bin/spacecast, the spool
#    /var/spool/spacecast owned by that user;
# 3. an OCI image of it (umoci): one layer, ENTRYPOINT spacecast, USER 10001:10001, VOLUME the
#    spool; written as an OCI layout (OUT_DIR/oci, tag spacecast) and as one archive
#    OUT_DIR/spacecast-oci.tar (skopeo copy oci-archive:..., podman load, docker load);
# 4. a check: the image is unpacked again (umoci unpack), and its entrypoint runs as its user in a
#    chroot inside new mount, PID and network namespaces (no network at all): `version` must print
#    the version built, `webhook --help` and `worker --help` must succeed, the user must be able to
#    write the spool and not the root filesystem.
#
# Environment: SPACECAST_BIN=FILE uses a binary already built instead of building one;
# VERSION=v1.2.3 names the version (default: git describe).
# mmdebstrap fetches the packages from the machine's own Debian sources
# (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list), so no other host is named.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

out=${1:-dist/image}
uid=10001
spool=/var/spool/spacecast
# The runtime packages: keep in step with RUNTIME_PACKAGES in Dockerfile and Dockerfile.goreleaser.
runtime_packages="ca-certificates tzdata libopus0 libmp3lame0 libsoxr0"

if [ "$(id -u)" -ne 0 ]; then
  echo "build-image: run as root (mmdebstrap and the chroot check need it)" >&2
  exit 1
fi
# shellcheck source=setup.sh
. scripts/setup.sh
apt_install mmdebstrap umoci jq

sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
if [ ! -f "$sources" ]; then
  echo "build-image: no Debian sources on this machine (looked for $sources)" >&2
  exit 1
fi

start=$(date +%s)
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# Reproducible timestamps: the commit's time (mmdebstrap clamps file times to it).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

work=$(mktemp -d /tmp/spacecast-image.XXXXXX)
cleanup() {
  # The check's mounts live in their own mount namespace and end with it; nothing to unmount.
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The binary.
bin=${SPACECAST_BIN:-}
if [ -z "$bin" ]; then
  bin=$work/spacecast
  echo "build-image: go build ($version)"
  CGO_ENABLED=1 go build -trimpath -tags nolibopusfile \
    -ldflags "-s -w -X main.version=$version -X main.commit=$commit -X main.date=$created" \
    -o "$bin" ./cmd/spacecast
fi
built=$(date +%s)

# 2. The root filesystem.
echo "build-image: mmdebstrap bookworm + $runtime_packages"
mmdebstrap --quiet --variant=essential --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --include="${runtime_packages// /,}" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="upload '$bin' /usr/local/bin/spacecast" \
  --customize-hook='chmod 0755 "$1/usr/local/bin/spacecast"' \
  --customize-hook="echo 'spacecast:x:$uid:$uid:spacecast:/nonexistent:/usr/sbin/nologin' >> \"\$1/etc/passwd\"" \
  --customize-hook="echo 'spacecast:x:$uid:' >> \"\$1/etc/group\"" \
  --customize-hook="install -d -m 0750 -o $uid -g $uid \"\$1$spool\"" \
  --customize-hook='rm -f "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old "$1"/var/log/*.log' \
  bookworm "$work/rootfs" "$sources"
rooted=$(date +%s)

# 3. The OCI image.
rm -rf "$out"
mkdir -p "$out"
img="$out/oci:spacecast"
umoci init --layout "$out/oci"
umoci new --image "$img"
umoci insert --image "$img" --history.created "$created" \
  --history.created_by "scripts/build-image.sh: mmdebstrap bookworm ($runtime_packages) + spacecast $version" \
  "$work/rootfs" /
umoci config --image "$img" --created "$created" --history.created "$created" \
  --history.created_by "scripts/build-image.sh: config" \
  --os linux --architecture "$(go env GOARCH)" \
  --config.entrypoint /usr/local/bin/spacecast \
  --config.user "$uid:$uid" \
  --config.workingdir "$spool" \
  --config.volume "$spool" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env HOME=/nonexistent \
  --config.stopsignal SIGTERM \
  --config.label "org.opencontainers.image.title=spacecast" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$commit" \
  --config.label "org.opencontainers.image.created=$created" \
  --config.label "org.opencontainers.image.licenses=MIT"
umoci gc --layout "$out/oci"
tar -C "$out/oci" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
  -cf "$out/spacecast-oci.tar" .
imaged=$(date +%s)

# 4. The check: unpack the image as a runtime would, run its entrypoint as its user.
umoci unpack --image "$img" "$work/bundle" >/dev/null
cfg=$work/bundle/config.json
mapfile -t entry < <(jq -r '.process.args[]' "$cfg")
runas="$(jq -r '.process.user.uid' "$cfg"):$(jq -r '.process.user.gid' "$cfg")"
mapfile -t envs < <(jq -r '.process.env[]' "$cfg")
root=$work/bundle/rootfs
failed=0

# in_image runs a command in the image's root filesystem, as the image's user, with the image's
# environment, with no network and its own PID and mount namespaces.
in_image() {
  unshare --mount --uts --ipc --net --pid --fork --mount-proc="$root/proc" \
    chroot --userspec="$runas" "$root" /usr/bin/env -i "${envs[@]}" "$@"
}
check() {
  local what=$1
  shift
  if "$@" >"$work/check.out" 2>&1; then
    echo "build-image: ok: $what"
  else
    echo "build-image: FAILED: $what" >&2
    sed 's/^/    /' "$work/check.out" >&2
    failed=1
  fi
}
prints_version() { in_image "${entry[@]}" version | tee /dev/stderr | grep -qF -- "$version"; }
check "entrypoint ${entry[*]} as $runas: version prints $version" prints_version
check "webhook --help" in_image "${entry[@]}" webhook --help
check "worker --help" in_image "${entry[@]}" worker --help
check "the user writes the spool $spool" in_image /usr/bin/touch "$spool/.probe"
not_writable() { ! in_image /usr/bin/touch /probe; }
check "the user cannot write /" not_writable
no_missing_library() { ! in_image /usr/bin/env LD_TRACE_LOADED_OBJECTS=1 /usr/local/bin/spacecast | grep 'not found'; }
check "every library the binary links is in the image" no_missing_library

done=$(date +%s)
size=$(stat -c %s "$out/spacecast-oci.tar")
layer=$(jq -r '.layers[0].size' "$out/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$out/oci/index.json" | cut -d: -f2)")
echo "build-image: $out/spacecast-oci.tar: $((size / 1024 / 1024)) MiB (layer $((layer / 1024 / 1024)) MiB gzip; root filesystem $(du -sm "$root" | cut -f1) MiB)"
echo "build-image: seconds: go build $((built - start)), mmdebstrap $((rooted - built)), OCI $((imaged - rooted)), check $((done - imaged)); total $((done - start))"
exit "$failed"
