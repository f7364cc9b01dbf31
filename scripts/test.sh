#!/usr/bin/env bash
# The test command (README and .ci/run): sets up everything the suites need on a fresh machine
# (Pants, the storage emulators, the reference SDK's virtualenv), runs every test, stops the
# services again. Extra arguments go to `pants test` (e.g. `scripts/test.sh libs/flyte-types::`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
targets=("$@"); [[ ${#targets[@]} -gt 0 ]] || targets=(::)

export FLYTE_SERVICES_ROOT="${FLYTE_SERVICES_ROOT:-/tmp/flyte-services}"
scripts/services/install.sh
scripts/services/start.sh
trap 'scripts/services/stop.sh >/dev/null 2>&1 || true' EXIT
export FLYTE_TEST_SERVICES_ENV="${FLYTE_SERVICES_ROOT}/env"
FLYTE_TEST_REF_VENV="$(scripts/ref-venv.sh)"
export FLYTE_TEST_REF_VENV

./pants test --output=all "${targets[@]}"
