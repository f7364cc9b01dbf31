#!/usr/bin/env bash
# The `docker` component of install.sh / start.sh (sourced by them; not run directly).
#
# Everything lives under $ROOT/docker and listens only on loopback:
#   dockerd    --data-root/--exec-root under $ROOT/docker, socket $ROOT/docker/docker.sock,
#              no bridge, no iptables (builds and containers use --network host)
#   registry   Debian docker-registry (distribution 2.8) on 127.0.0.1:$((BASE + 40))
#   buildx     $ROOT/docker/config/cli-plugins/docker-buildx (DOCKER_CONFIG=$ROOT/docker/config)
#   images     flyte-local/python:3.11-bookworm (debootstrap minbase + python3 + CA certificates,
#              the machine's extra CAs included) and flyte-local/uv:$UV_VERSION (uv from its
#              PyPI wheel): no Docker Hub or ghcr.io needed.
# start writes $ROOT/env.docker (KEY=VALUE, sourceable) for the tests (FLYTE_TEST_DOCKER_ENV).

UV_VERSION=${FLYTE_UV_VERSION:-0.8.13}
DOCKER_DIR="$ROOT/docker"
BASE_TAG=flyte-local/python:3.11-bookworm
UV_TAG="flyte-local/uv:$UV_VERSION"

debian_mirror() {
  local m
  m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${FLYTE_DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian}}"
}

# --- install: a Debian rootfs tarball and the uv binary (no daemon needed) -------------------
docker_install_base_inputs() {
  local img="$DOCKER_DIR/images"
  mkdir -p "$img"
  if [ -s "$img/bookworm-python3.tar" ]; then
    log "debootstrap rootfs: up to date"
  else
    local rootfs="$img/rootfs"
    rm -rf "$rootfs"
    log "debootstrap bookworm (minbase + python3 + ca-certificates) from $(debian_mirror)"
    debootstrap --variant=minbase --include=ca-certificates,python3 bookworm "$rootfs" \
        "$(debian_mirror)" >"$img/debootstrap.log" 2>&1 \
      || { tail -20 "$img/debootstrap.log" >&2; exit 1; }
    # Outgoing HTTPS may be TLS-intercepted here: trust the machine's extra CAs inside too.
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/" 2>/dev/null || true
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1 || true
    rm -rf "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" --numeric-owner -cf "$img/bookworm-python3.tar.tmp" .
    mv "$img/bookworm-python3.tar.tmp" "$img/bookworm-python3.tar"
    rm -rf "$rootfs"
  fi
  if [ -x "$img/uv-$UV_VERSION/uv" ]; then
    log "uv $UV_VERSION: up to date"
  else
    local d="$img/uv-$UV_VERSION" arch
    arch=$(uname -m)
    rm -rf "$d"; mkdir -p "$d"
    "${PYTHON:-python3}" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --platform "manylinux_2_17_$arch" --python-version 3.11 "uv==$UV_VERSION" -d "$d"
    "${PYTHON:-python3}" - "$d" "$UV_VERSION" <<'PY'
import glob, sys, zipfile
d, v = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(glob.glob(f"{d}/uv-*.whl")[0])
open(f"{d}/uv", "wb").write(z.read(f"uv-{v}.data/scripts/uv"))
PY
    chmod +x "$d/uv"; rm -f "$d"/*.whl
  fi
}

# --- start ------------------------------------------------------------------------------------
docker_start() {
  command -v dockerd >/dev/null && command -v docker-registry >/dev/null \
      && [ -x "$DOCKER_DIR/config/cli-plugins/docker-buildx" ] && [ -s "$DOCKER_DIR/images/bookworm-python3.tar" ] || {
    echo "start.sh: docker is not installed; run $HERE/install.sh docker first" >&2
    exit 1
  }
  local sock="$DOCKER_DIR/docker.sock" reg_port=$((BASE + 40))
  mkdir -p "$ROOT/pids" "$ROOT/logs" "$DOCKER_DIR/root" "$DOCKER_DIR/exec" "$ROOT/data/registry"
  export DOCKER_HOST="unix://$sock" DOCKER_CONFIG="$DOCKER_DIR/config"
  # dockerd needs cgroups and overlayfs; a container without privileges cannot run it.
  launch dockerd 0 dockerd --data-root "$DOCKER_DIR/root" --exec-root "$DOCKER_DIR/exec" \
      --pidfile "$DOCKER_DIR/dockerd.pid" -H "unix://$sock" --storage-driver=overlay2 \
      --iptables=false --ip6tables=false --bridge=none --ip-forward=false --ip-masq=false
  cat >"$ROOT/data/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $ROOT/data/registry}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$reg_port}
YML
  launch registry "$reg_port" docker-registry serve "$ROOT/data/registry.yml"
  wait_for dockerd 60 curl -sf --unix-socket "$sock" http://d/_ping
  wait_for registry 30 curl -sf "http://127.0.0.1:$reg_port/v2/"
  if ! docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
    docker import --change 'CMD ["/bin/bash"]' \
        --change 'ENV LANG=C.UTF-8 SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt' \
        "$DOCKER_DIR/images/bookworm-python3.tar" "$BASE_TAG" >/dev/null
    log "imported $BASE_TAG"
  fi
  if ! docker image inspect "$UV_TAG" >/dev/null 2>&1; then
    local d="$DOCKER_DIR/images/uv-$UV_VERSION"
    printf 'FROM scratch\nCOPY uv /uv\n' >"$d/Dockerfile"
    docker buildx build -q --network host -t "$UV_TAG" "$d" >/dev/null
    log "built $UV_TAG"
  fi
  cat >"$ROOT/env.docker.tmp" <<ENV
# Written by scripts/services/start.sh docker; the Docker daemon, buildx and registry.
FLYTE_SERVICES_ROOT=$ROOT
DOCKER_HOST=unix://$sock
DOCKER_CONFIG=$DOCKER_DIR/config
FLYTE_TEST_REGISTRY=127.0.0.1:$reg_port
FLYTE_TEST_BASE_IMAGE=$BASE_TAG
FLYTE_TEST_UV_IMAGE=$UV_TAG
# Standard variables: flyte-imagebuild builds FROM these instead of Docker Hub / ghcr.io images.
FLYTE_DEFAULT_BASE_IMAGE=flyte-local/python:{python_version}-bookworm
FLYTE_UV_IMAGE=$UV_TAG
FLYTE_DOCKER_BUILD_NETWORK=host
ENV
  mv "$ROOT/env.docker.tmp" "$ROOT/env.docker"
  log "docker up; export FLYTE_TEST_DOCKER_ENV=$ROOT/env.docker"
  echo "$ROOT/env.docker"
}
