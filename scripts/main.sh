#!/usr/bin/env bash
# The README's main job, on a fresh machine: build the nine wheels with Pants, install the SDK into
# ./.venv the way a user would (`pip install flyte`, our wheels from dist/, the rest from PyPI),
# and run our hello example end to end on the embedded default (a local run, no config needed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=$(sed -n 's/^FLYTE_VERSION = "\([^"]*\)".*/\1/p' build-support/macros.py)
# This machine kind reaches PyPI through a TLS proxy whose CA is only in the system bundle.
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then export PIP_CERT=/etc/ssl/certs/ca-certificates.crt; fi
# The machine-wide pip.conf names local mirror folders that do not exist here; skip it.
export PIP_CONFIG_FILE=/dev/null

echo "[main] building wheels (./pants package ::)" >&2
rm -rf dist
./pants package :: >/dev/null
echo "[main] installing flyte==${version} into .venv" >&2
[[ -x .venv/bin/python ]] || python3.11 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check --upgrade --force-reinstall --no-deps dist/*.whl
.venv/bin/pip install -q --disable-pip-version-check --find-links dist "flyte==${version}"
echo "[main] python examples/hello.py" >&2
# A scratch HOME: no ~/.flyte/config.yaml can turn this into a remote run by surprise.
cd examples && HOME="$(mktemp -d)" exec ../.venv/bin/python hello.py "$@"
