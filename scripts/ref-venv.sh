#!/usr/bin/env bash
# Create (once) a virtualenv holding the reference SDK, PyPI flyte==2.12.1, for the compatibility
# tests and the side-by-side benchmarks. Never imported into our own processes: tests drive it
# through subprocesses. Prints the venv path.
set -euo pipefail
REF_VERSION="${FLYTE_REF_VERSION:-2.12.1}"
DEST="${FLYTE_TEST_REF_VENV:-${HOME}/.cache/flyte-dev/ref-venv-${REF_VERSION}}"
PY="${FLYTE_REF_PYTHON:-python3.11}"
# This machine kind reaches PyPI through a TLS proxy whose CA is only in the system bundle.
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then export PIP_CERT=/etc/ssl/certs/ca-certificates.crt; fi
if [[ "$("${DEST}/bin/python" -c 'import importlib.metadata as m, pandas, pyarrow; print(m.version("flyte"))' 2>/dev/null)" != "${REF_VERSION}" ]]; then
  echo "[ref-venv] installing flyte==${REF_VERSION} into ${DEST}" >&2
  rm -rf "${DEST}"
  "${PY}" -m venv "${DEST}"
  # The machine-wide pip.conf pins a constraints file meant for other work; ignore it here.
  # pandas and pyarrow let the DataFrame interop cases of the type-compatibility test run.
  PIP_CONFIG_FILE=/dev/null "${DEST}/bin/pip" install -q --disable-pip-version-check \
    "flyte==${REF_VERSION}" pandas pyarrow >&2
fi
echo "${DEST}"
