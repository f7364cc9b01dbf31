#!/usr/bin/env bash
# The test command (README and .ci/run): sets up everything the suites need on a fresh machine
# (Pants, the storage emulators, the reference SDK's virtualenv), runs every test, stops the
# services again. Extra arguments go to `pants test` (e.g. `scripts/test.sh libs/flyte-types::`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
targets=("$@"); [[ ${#targets[@]} -gt 0 ]] || targets=(::)

export FLYTE_SERVICES_ROOT="${FLYTE_SERVICES_ROOT:-/tmp/flyte-services}"
scripts/services/install.sh
trap 'scripts/services/stop.sh >/dev/null 2>&1 || true' EXIT
scripts/services/start.sh
export FLYTE_TEST_SERVICES_ENV="${FLYTE_SERVICES_ROOT}/env"
# The Docker daemon, BuildKit and a registry on loopback (tests/imagebuild). They need root and
# apt; where they cannot run, those tests skip and print why. Started apart from the storage
# emulators so that a failure here leaves those running.
if scripts/services/install.sh docker && scripts/services/start.sh docker; then
  export FLYTE_TEST_DOCKER_ENV="${FLYTE_SERVICES_ROOT}/env.docker"
else
  echo "[test] the Docker services could not be installed or started: tests/imagebuild will skip" >&2
fi
FLYTE_TEST_REF_VENV="$(scripts/ref-venv.sh)"
export FLYTE_TEST_REF_VENV

./pants test --output=all "${targets[@]}"
