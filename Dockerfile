# syntax=docker/dockerfile:1
# spacecast's container image, built from source: `docker build -t spacecast .`
# The release image is the same runtime stage around goreleaser's binary (Dockerfile.goreleaser);
# CI, which has no Docker, builds the same image with scripts/build-image.sh (docs/fleet.md, "Deployment").
#
# spacecast links LAME, libopus and libsoxr through cgo (dynamically: the LGPL libraries stay
# replaceable), so the builder needs their -dev packages and the runtime image their libraries.

ARG GO_VERSION=1.26
ARG RUNTIME_PACKAGES="ca-certificates tzdata libopus0 libmp3lame0 libsoxr0"

FROM golang:${GO_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc pkg-config libmp3lame-dev libopus-dev libsoxr-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -tags nolibopusfile \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/spacecast ./cmd/spacecast

FROM debian:bookworm-slim
ARG RUNTIME_PACKAGES
RUN apt-get update \
 && apt-get install -y --no-install-recommends ${RUNTIME_PACKAGES} \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 spacecast \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin spacecast \
 && install -d -m 0750 -o 10001 -g 10001 /var/spool/spacecast
COPY --from=build /out/spacecast /usr/local/bin/spacecast
USER 10001:10001
WORKDIR /var/spool/spacecast
VOLUME /var/spool/spacecast
ENV HOME=/nonexistent
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/spacecast"]
