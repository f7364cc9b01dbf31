"""The devbox with its blobs in an object store (S3 on the local moto emulator), driven by the
reference client: bundle upload through the devbox's signed URL, inputs, a nested fan-out whose
runtime reads and writes s3:// directly, outputs read back by the devbox.

Needs the storage emulators (`scripts/services/start.sh`, which writes the env file named by
`$FLYTE_TEST_SERVICES_ENV`) and the reference SDK (`$FLYTE_TEST_REF_VENV`).
"""

from __future__ import annotations

import json
import os
import shlex
import uuid
from pathlib import Path

import pytest
from devbox.devbox_ref_client import RefClient, devbox_config, make_workdir

from flyte_devbox import Devbox

pytestmark = [pytest.mark.integration, pytest.mark.reference, pytest.mark.services]


def _services_env() -> dict[str, str]:
    path = os.environ.get("FLYTE_TEST_SERVICES_ENV")
    if not path:
        pytest.skip("FLYTE_TEST_SERVICES_ENV is not set (scripts/services/start.sh)")
    if not Path(path).is_file():
        pytest.fail(f"FLYTE_TEST_SERVICES_ENV={path} does not exist")
    out: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            parts = shlex.split(value) if value else [""]
            out[key] = parts[0] if parts else ""
    return out


def test_s3_storage(ref_venv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    services = _services_env()
    endpoint = services.get("FLYTE_TEST_S3_ENDPOINT")
    if not endpoint:
        pytest.fail("the services env file has no FLYTE_TEST_S3_ENDPOINT")
    # The devbox (flyte-storage) and the actions (the reference runtime) read the same variables.
    for key in (
        "FLYTE_AWS_ENDPOINT",
        "FLYTE_AWS_ACCESS_KEY_ID",
        "FLYTE_AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.setenv(key, services[key])
    import s3fs

    fs = s3fs.S3FileSystem(
        key=services["FLYTE_AWS_ACCESS_KEY_ID"],
        secret=services["FLYTE_AWS_SECRET_ACCESS_KEY"],
        client_kwargs={"endpoint_url": endpoint},
    )
    bucket = f"devbox-it-{uuid.uuid4().hex[:10]}"
    fs.mkdir(bucket)

    config = devbox_config(ref_venv, tmp_path / "state", storage_uri=f"s3://{bucket}/devbox")
    with Devbox(config) as devbox:
        client = RefClient(ref_venv, devbox, make_workdir(tmp_path / "work"))
        client.write_config()
        client.extra_env = {
            k: os.environ[k]
            for k in (
                "FLYTE_AWS_ENDPOINT",
                "FLYTE_AWS_ACCESS_KEY_ID",
                "FLYTE_AWS_SECRET_ACCESS_KEY",
                "AWS_DEFAULT_REGION",
            )
        }
        result = client.python("run", "fanout", json.dumps({"n": 3}))
    assert result["phase"] == "SUCCEEDED", result
    assert result["outputs"] == [[0, 1, 4]]
    keys = fs.find(bucket)
    run = result["run"]
    assert any(k.endswith(f"/{run}/a0/1/outputs.pb") for k in keys), keys
    assert any("/uploads/" in k and k.endswith(".tar.gz") for k in keys), keys
    assert not (tmp_path / "state" / "blobs").exists()
