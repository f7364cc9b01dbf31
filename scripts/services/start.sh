#!/usr/bin/env bash
# Start the local test services on 127.0.0.1 and write their endpoints to $FLYTE_SERVICES_ROOT/env.
#
#   scripts/services/start.sh [storage] [docker]
#
# storage (the default):
#   moto             S3, fast, no signature checks           FLYTE_TEST_S3_*
#   SeaweedFS        S3 that checks signatures (weed mini)   FLYTE_TEST_SEAWEEDFS_*
#   Azurite          Azure Blob                              FLYTE_TEST_AZURE_*
#   fake-gcs-server  GCS (JSON API, in memory)               FLYTE_TEST_GCS_*
# docker (see docker.sh; endpoints in $FLYTE_SERVICES_ROOT/env.docker, FLYTE_TEST_DOCKER_ENV):
#   dockerd          private data root and socket, no bridge  DOCKER_HOST, DOCKER_CONFIG (buildx)
#   docker-registry  OCI registry (distribution 2.8)          FLYTE_TEST_REGISTRY
#   base images      flyte-local/python:3.11-bookworm, flyte-local/uv (no Docker Hub needed)
#
# Each service is started in its own process group; its PID (= group id) goes to
# $ROOT/pids/<name>.pid and its log to $ROOT/logs/<name>.log. stop.sh stops exactly those.
# Ports: FLYTE_SERVICES_PORT_BASE (default 21000) + a fixed offset per service, below the
# kernel's ephemeral range so they never collide with outgoing connections.
#
# The env file is KEY=VALUE lines (values quoted only when the shell needs it), readable by the
# tests (FLYTE_TEST_SERVICES_ENV=<path>) and sourceable: `set -a; . "$ROOT/env"; set +a` makes
# flyte_storage reach the emulators by configuration alone (FLYTE_AWS_*, STORAGE_EMULATOR_HOST,
# AZURE_STORAGE_CONNECTION_STRING). The path is printed on stdout.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${FLYTE_SERVICES_ROOT:-/tmp/flyte-services}
BASE=${FLYTE_SERVICES_PORT_BASE:-21000}
V="$ROOT/venv/bin"

want_storage=0 want_docker=0
[ $# -eq 0 ] && want_storage=1
for arg in "$@"; do
  case "$arg" in
    storage) want_storage=1 ;;
    docker) want_docker=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "start.sh: unknown component '$arg' (known: storage, docker)" >&2; exit 2 ;;
  esac
done
mkdir -p "$ROOT/pids" "$ROOT/logs" "$ROOT/data"
log() { echo "[start] $*" >&2; }

MOTO_PORT=$((BASE + 0))
WEED_S3_PORT=$((BASE + 10))
WEED_MASTER_PORT=$((BASE + 11))
WEED_VOLUME_PORT=$((BASE + 12))
WEED_FILER_PORT=$((BASE + 13))
WEED_ADMIN_PORT=$((BASE + 14))
AZURITE_PORT=$((BASE + 20))
GCS_PORT=$((BASE + 30))

# Credentials of the local emulators only (not secrets).
WEED_KEY=flyte-test-access-key
WEED_SECRET=flyte-test-secret-key
AZ_ACCOUNT=devstoreaccount1
AZ_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

running() { [ -f "$ROOT/pids/$1.pid" ] && kill -0 "$(cat "$ROOT/pids/$1.pid")" 2>/dev/null; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

launch() {  # name port cmd...: start in a new session (process group = PID) unless running
  local name=$1 port=$2; shift 2
  if running "$name"; then
    log "$name: already running (pid $(cat "$ROOT/pids/$name.pid"))"
    return
  fi
  if port_busy "$port"; then
    echo "start.sh: port $port for $name is taken by another process; set FLYTE_SERVICES_PORT_BASE" >&2
    exit 1
  fi
  setsid "$@" >"$ROOT/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$ROOT/pids/$name.pid"
}

wait_for() {  # name seconds cmd...: poll until cmd succeeds
  local name=$1 limit=$2 start=$SECONDS; shift 2
  until "$@" >/dev/null 2>&1; do
    if ! running "$name"; then
      echo "start.sh: $name exited during startup; log:" >&2; tail -20 "$ROOT/logs/$name.log" >&2; exit 1
    fi
    if (( SECONDS - start > limit )); then
      echo "start.sh: timed out waiting for $name; log:" >&2; tail -20 "$ROOT/logs/$name.log" >&2; exit 1
    fi
    sleep 0.1
  done
  log "$name ready ($((SECONDS - start))s)"
}

if [ $want_docker = 1 ]; then
  # shellcheck source=docker.sh
  . "$HERE/docker.sh"
  docker_start
fi
[ $want_storage = 1 ] || exit 0

[ -x "$V/moto_server" ] && [ -x "$ROOT/azurite/node_modules/.bin/azurite-blob" ] || {
  echo "start.sh: services are not installed; run $HERE/install.sh first" >&2
  exit 1
}

# --- launch everything first, then wait: the services start in parallel -----------------
launch moto "$MOTO_PORT" env AWS_DEFAULT_REGION=us-east-1 "$V/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"

# Each start is a fresh store (moto and fake-gcs-server keep everything in memory anyway).
running seaweedfs || rm -rf "$ROOT/data/seaweedfs"
mkdir -p "$ROOT/data/seaweedfs"
# weed mini takes its S3 identity from these variables; every request must be signed with them.
launch seaweedfs "$WEED_S3_PORT" env AWS_ACCESS_KEY_ID="$WEED_KEY" AWS_SECRET_ACCESS_KEY="$WEED_SECRET" \
  "$V/weed" mini -dir="$ROOT/data/seaweedfs" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
  -admin.ui=false -webdav=false -s3.port="$WEED_S3_PORT" -s3.port.iceberg=0 -s3.port.lance=0 \
  -s3.autoCreateBucket=false \
  -master.port="$WEED_MASTER_PORT" -volume.port="$WEED_VOLUME_PORT" \
  -filer.port="$WEED_FILER_PORT" -admin.port="$WEED_ADMIN_PORT"

running azurite || rm -rf "$ROOT/data/azurite"
mkdir -p "$ROOT/data/azurite"
launch azurite "$AZURITE_PORT" "$ROOT/azurite/node_modules/.bin/azurite-blob" \
  --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --location "$ROOT/data/azurite" \
  --skipApiVersionCheck --loose --disableTelemetry

launch fakegcs "$GCS_PORT" "$V/fake-gcs-server" -scheme http -host 127.0.0.1 -port "$GCS_PORT" \
  -backend memory -external-url "http://127.0.0.1:$GCS_PORT" -public-host "127.0.0.1:$GCS_PORT" \
  -log-level warn

wait_for moto 30 curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/"
wait_for seaweedfs 60 bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$WEED_S3_PORT/ | grep -q 403"
wait_for azurite 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$AZURITE_PORT"
wait_for fakegcs 30 curl -sf "http://127.0.0.1:$GCS_PORT/storage/v1/b"

ENV_FILE="$ROOT/env"
cat >"$ENV_FILE.tmp" <<ENV
# Written by scripts/services/start.sh; endpoints of the local test services.
FLYTE_SERVICES_ROOT=$ROOT
FLYTE_TEST_S3_ENDPOINT=http://127.0.0.1:$MOTO_PORT
FLYTE_TEST_S3_ACCESS_KEY_ID=testing
FLYTE_TEST_S3_SECRET_ACCESS_KEY=testing
FLYTE_TEST_S3_REGION=us-east-1
FLYTE_TEST_SEAWEEDFS_ENDPOINT=http://127.0.0.1:$WEED_S3_PORT
FLYTE_TEST_SEAWEEDFS_ACCESS_KEY_ID=$WEED_KEY
FLYTE_TEST_SEAWEEDFS_SECRET_ACCESS_KEY=$WEED_SECRET
FLYTE_TEST_AZURE_ENDPOINT=http://127.0.0.1:$AZURITE_PORT/$AZ_ACCOUNT
FLYTE_TEST_AZURE_ACCOUNT_NAME=$AZ_ACCOUNT
FLYTE_TEST_AZURE_ACCOUNT_KEY=$AZ_KEY
FLYTE_TEST_GCS_ENDPOINT=http://127.0.0.1:$GCS_PORT
# Programs, so tests can run private instances (e.g. to kill one mid-transfer).
FLYTE_TEST_MOTO_BIN=$V/moto_server
FLYTE_TEST_WEED_BIN=$V/weed
FLYTE_TEST_AZURITE_BIN=$ROOT/azurite/node_modules/.bin/azurite-blob
FLYTE_TEST_FAKEGCS_BIN=$V/fake-gcs-server
# Standard variables: with these exported, flyte_storage's default configuration uses the
# emulators (s3:// -> moto, gs:// -> fake-gcs-server, abfs:// -> Azurite).
FLYTE_AWS_ENDPOINT=http://127.0.0.1:$MOTO_PORT
FLYTE_AWS_ACCESS_KEY_ID=testing
FLYTE_AWS_SECRET_ACCESS_KEY=testing
AWS_DEFAULT_REGION=us-east-1
STORAGE_EMULATOR_HOST=http://127.0.0.1:$GCS_PORT
AZURE_STORAGE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=$AZ_ACCOUNT;AccountKey=$AZ_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/$AZ_ACCOUNT;'
ENV
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "services up; export FLYTE_TEST_SERVICES_ENV=$ENV_FILE"
echo "$ENV_FILE"
