#!/usr/bin/env bash
# Build the slim worker image and the full image from the wheels in dist/, smoke-test them, and
# report their sizes (optionally against the reference SDK installed on the same base).
#
#   images/build.sh [--compare] [--push]
#
#   --compare   also build images/Dockerfile.reference (PyPI flyte==2.12.1) and compare sizes
#   --push      push both images to $FLYTE_IMAGE_REGISTRY
#
# Environment:
#   FLYTE_IMAGES_BASE    base image (default: flyte-local/python:3.11-bookworm when the local
#                        services made it, else python:3.11-slim-bookworm)
#   FLYTE_UV_IMAGE       image that provides /uv (default ghcr.io/astral-sh/uv:0.8.13)
#   FLYTE_IMAGE_REGISTRY registry prefix of the tags (default: none, local tags only)
#   FLYTE_DOCKER_BUILD_NETWORK  --network for the build steps (e.g. host)
#   DOCKER_HOST / DOCKER_CONFIG as for docker (scripts/services/start.sh docker writes them to
#                        $FLYTE_SERVICES_ROOT/env.docker; source that file first)
# Needs: docker with buildx, wheels in dist/ (./pants package ::).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
compare=0 push=0
for arg in "$@"; do
  case "$arg" in
    --compare) compare=1 ;;
    --push) push=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
log() { echo "[images] $*" >&2; }
ls dist/flyte_runtime-*.whl >/dev/null 2>&1 || { echo "build.sh: no wheels in dist/; run ./pants package :: first" >&2; exit 1; }

if [ -z "${FLYTE_IMAGES_BASE:-}" ]; then
  if docker image inspect flyte-local/python:3.11-bookworm >/dev/null 2>&1; then
    FLYTE_IMAGES_BASE=flyte-local/python:3.11-bookworm
  else
    FLYTE_IMAGES_BASE=python:3.11-slim-bookworm
  fi
fi
UV_IMAGE=${FLYTE_UV_IMAGE:-ghcr.io/astral-sh/uv:0.8.13}
prefix=${FLYTE_IMAGE_REGISTRY:+$FLYTE_IMAGE_REGISTRY/}
version=$(sed -n 's/^FLYTE_VERSION = "\([^"]*\)".*/\1/p' build-support/macros.py | tr '!+' '--')
# The tag is a digest of the inputs: the Dockerfiles, the wheels and the base.
digest=$( (cat images/Dockerfile.slim images/Dockerfile.full; sha256sum dist/*.whl | awk '{print $1}'; echo "$FLYTE_IMAGES_BASE $UV_IMAGE") | sha256sum | cut -c1-16)
SLIM="${prefix}flyte-slim:${version}-${digest}"
FULL="${prefix}flyte-full:${version}-${digest}"
REF="flyte-reference:2.12.1"
net=(); [ -n "${FLYTE_DOCKER_BUILD_NETWORK:-}" ] && net=(--network "$FLYTE_DOCKER_BUILD_NETWORK")
out=(--load); [ $push = 1 ] && out=(--push)

build() {  # dockerfile tag
  local s=$SECONDS
  docker buildx build --progress "${FLYTE_IMAGES_PROGRESS:-quiet}" "${net[@]}" "${out[@]}" \
      --build-arg BASE_IMAGE="$FLYTE_IMAGES_BASE" --build-arg UV_IMAGE="$UV_IMAGE" \
      -f "$1" -t "$2" . >/dev/null
  log "built $2 ($((SECONDS - s))s)"
}
build images/Dockerfile.slim "$SLIM"
build images/Dockerfile.full "$FULL"
[ $compare = 1 ] && build images/Dockerfile.reference "$REF"

run() { docker run --rm --network none "$@"; }
log "smoke test: $SLIM"
run "$SLIM" python -c 'import flyte, flyte_runtime; print("import flyte ok", flyte.__version__)'
run "$SLIM" a0 --help >/dev/null && log "a0 --help ok"
docker run --rm -i --network none "$SLIM" python - <<'PY'
import importlib.util, sys
present = [m for m in ("click", "rich", "docker", "flyte_imagebuild", "flyte_cli", "flyte_devbox")
           if importlib.util.find_spec(m) is not None]
if present:
    sys.exit(f"the slim image must not contain {present}")
print("absent: click, rich, docker, flyte_imagebuild, flyte_cli, flyte_devbox")
PY
log "smoke test: $FULL"
run "$FULL" python -c 'import flyte, flyte_imagebuild, flyte_cli; print("full image ok")'

venv_kb() { run "$1" du -sk /opt/venv | cut -f1; }
img_mb() { docker image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f", $1/1048576}'; }
slim_kb=$(venv_kb "$SLIM"); full_kb=$(venv_kb "$FULL")
echo "base image         $FLYTE_IMAGES_BASE: $(img_mb "$FLYTE_IMAGES_BASE") MB"
echo "slim               $SLIM: image $(img_mb "$SLIM") MB, /opt/venv $((slim_kb / 1024)) MB"
echo "full               $FULL: image $(img_mb "$FULL") MB, /opt/venv $((full_kb / 1024)) MB"
if [ $compare = 1 ]; then
  ref_kb=$(venv_kb "$REF")
  echo "reference flyte    $REF: image $(img_mb "$REF") MB, /opt/venv $((ref_kb / 1024)) MB"
  awk -v s="$slim_kb" -v r="$ref_kb" 'BEGIN { printf "slim/reference venv size: %.2f (goal <= 0.50)\n", s / r }'
  [ $((slim_kb * 2)) -le "$ref_kb" ] || { echo "build.sh: the slim image's venv is larger than half the reference's" >&2; exit 1; }
fi
echo "SLIM_IMAGE=$SLIM"
echo "FULL_IMAGE=$FULL"
