#!/usr/bin/env bash
# The README's main job, on a fresh machine: build the wheels with Pants, install the SDK into
# ./.venv the way a user would (`pip install flyte`: our wheels from dist/, the rest from PyPI),
# start the embedded control plane (`flyte start devbox`, no Docker, no Kubernetes), and
# `flyte run --follow` our hello example on it: the code is bundled and uploaded, every action
# runs in its own `a0` process, and the outputs are printed when the run ends.
#
#   scripts/main.sh            the run on a devbox (the default)
#   scripts/main.sh --local    the same example with the local engine, no control plane
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
# Refresh our own wheels in place (same dev version on every build); plugins are not part of
# `flyte` and are left out.
.venv/bin/pip install -q --disable-pip-version-check --upgrade --force-reinstall --no-deps dist/flyte[-_]*.whl
.venv/bin/pip install -q --disable-pip-version-check --find-links dist "flyte==${version}"

# A scratch HOME and state: no ~/.flyte/config.yaml of this machine is read or written.
scratch=$(mktemp -d)
export HOME="$scratch/home"
mkdir -p "$HOME"
flyte=("$PWD/.venv/bin/flyte")
if [[ "${1:-}" == "--local" ]]; then
  echo "[main] flyte run --local hello.py main --n 5 --name flyte" >&2
  cd examples && exec "${flyte[@]}" run --local hello.py main --n 5 --name flyte
fi

port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
config="$scratch/config.yaml"
echo "[main] flyte start devbox --port $port (state and log in $scratch)" >&2
"${flyte[@]}" start devbox --port "$port" --state-dir "$scratch/devbox" --write-config "$config" \
  >"$scratch/devbox.log" 2>&1 &
devbox=$!
stop_devbox() { kill "$devbox" 2>/dev/null && wait "$devbox" 2>/dev/null; true; }
trap stop_devbox EXIT
for _ in $(seq 100); do
  if [[ -s "$config" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$devbox" 2>/dev/null || { cat "$scratch/devbox.log" >&2; exit 1; }
  sleep 0.1
done
echo "[main] flyte run --follow hello.py main --n 5 --name flyte" >&2
cd examples
"${flyte[@]}" --config "$config" run --follow hello.py main --n 5 --name flyte
