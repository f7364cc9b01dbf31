#!/usr/bin/env bash
# bootstrap.sh - install Pants from PyPI without the scie-pants launcher and without
# GitHub access. Idempotent; safe to run from a clean CI machine.
#
#  1. creates a CPython 3.9 venv with pantsbuild.pants==$PANTS_VERSION (PyPI wheels are cp37-cp39 only)
#  2. builds the `pex` CLI as a PEX file from the PyPI `pex` package (Pants normally downloads it
#     from GitHub releases), deterministically, so its sha256/size match [pex-cli] in pants.toml.
#
# Env overrides: PANTS_BOOTSTRAP_DIR (default ~/.cache/pants-bootstrap), PANTS_PYTHON (a python3.9).
# On success it writes a stamp named after this script's hash; ./pants skips bootstrapping while
# that stamp exists, so editing this file (e.g. a version bump) re-runs it automatically.
set -euo pipefail

PANTS_VERSION="2.17.1"
# pex CLI for [pex-cli] in pants.toml. Verified combinations (built by the venv's pex 2.1.137):
#   2.1.137  05f739a34f24bfa6d6f5f13f76e07048baf208b9892036630ff7fb73a9bb53b7  4098296  (2.17 default; code <= 3.11)
#   2.19.1   137706612a50c2c97f0a8053fff91dd6d750d20d2e2d53bcbca7b71548261703  4721660  (needed for 3.12/3.13)
PEX_VERSION="2.19.1"
PEX_SHA256="137706612a50c2c97f0a8053fff91dd6d750d20d2e2d53bcbca7b71548261703"
PEX_SIZE="4721660"

BOOT_DIR="${PANTS_BOOTSTRAP_DIR:-${HOME}/.cache/pants-bootstrap}"
VENV="${BOOT_DIR}/pants-${PANTS_VERSION}-venv"
PEX_FILE="${BOOT_DIR}/pex-v${PEX_VERSION}"

log() { echo "[bootstrap] $*" >&2; }

find_python39() {
  if [[ -n "${PANTS_PYTHON:-}" ]]; then echo "${PANTS_PYTHON}"; return; fi
  local c
  for c in python3.9 \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3.9 \
           /usr/local/bin/python3.9 /usr/bin/python3.9; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; assert sys.version_info[:2]==(3,9)' 2>/dev/null; then
      command -v "$c"; return
    fi
  done
  log "ERROR: no CPython 3.9 found (pantsbuild.pants ${PANTS_VERSION} ships only cp37/cp38/cp39 wheels)."
  log "       Set PANTS_PYTHON=/path/to/python3.9 (e.g. from pyenv)."
  exit 1
}

mkdir -p "${BOOT_DIR}"
# Serialize concurrent bootstraps (two shells / CI jobs on one machine).
exec 9>"${BOOT_DIR}/.lock"
flock 9

# The marker file is written last, so an interrupted install is redone from scratch.
if [[ "$(cat "${VENV}/.pants_version" 2>/dev/null)" != "${PANTS_VERSION}" ]]; then
  PY="$(find_python39)"
  log "creating ${VENV} with ${PY}"
  rm -rf "${VENV}"
  "${PY}" -m venv "${VENV}"
  "${VENV}/bin/pip" install --quiet --upgrade "pip<24"
  # Pin Pants' own dependencies too (the versions this recipe was verified with).
  cat > "${VENV}/constraints.txt" <<'PINS'
ansicolors==1.1.8
chevron==0.14.0
fasteners==0.16.3
ijson==3.1.4
importlib-resources==5.0.7
node-semver==0.9.0
packaging==21.3
pex==2.1.137
psutil==5.9.0
pyparsing==3.3.3
python-lsp-jsonrpc==1.0.0
PyYAML==6.0.3
setproctitle==1.3.2
setuptools==63.4.3
six==1.17.0
toml==0.10.2
types-PyYAML==6.0.3
types-setuptools==62.6.1
types-toml==0.10.8
typing_extensions==4.3.0
ujson==5.11.0
PINS
  "${VENV}/bin/pip" install --quiet -c "${VENV}/constraints.txt" "pantsbuild.pants==${PANTS_VERSION}"
  echo "${PANTS_VERSION}" > "${VENV}/.pants_version"
fi

sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | cut -d' ' -f1)" == "${PEX_SHA256}" ]]; }

if ! sha_ok "${PEX_FILE}"; then
  log "building pex CLI v${PEX_VERSION} from PyPI -> ${PEX_FILE}"
  # The venv already contains pex==2.1.137 (a dependency of pantsbuild.pants). Flags mirror pex's
  # own release build (scripts/package.py): --no-strip-pex-env is REQUIRED, otherwise the PEX_ROOT
  # etc. that Pants sets are stripped and pex silently uses ~/.pex instead of Pants' named cache.
  # PEX builds are reproducible, so the sha256/size are the same on every machine.
  "${VENV}/bin/pex" "pex==${PEX_VERSION}" -c pex --disable-cache --no-build --no-compile \
      --python-shebang '/usr/bin/env python3' --no-strip-pex-env --include-tools \
      -o "${PEX_FILE}.tmp"
  got="$(sha256sum "${PEX_FILE}.tmp" | cut -d' ' -f1) $(stat -c %s "${PEX_FILE}.tmp")"
  if [[ "${got}" != "${PEX_SHA256} ${PEX_SIZE}" ]]; then
    log "ERROR: built pex has sha256/size '${got}', expected '${PEX_SHA256} ${PEX_SIZE}'."
    log "       Update PEX_SHA256/PEX_SIZE here AND [pex-cli].known_versions in pants.toml."
    exit 1
  fi
  mv "${PEX_FILE}.tmp" "${PEX_FILE}"
fi
touch "${BOOT_DIR}/.stamp-$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
log "ok: pants ${PANTS_VERSION} in ${VENV}; pex CLI at ${PEX_FILE}"
