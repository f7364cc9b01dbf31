"""A remote run through a devbox whose blobs live in S3 (the moto emulator): the code bundle is
uploaded through the devbox's signed URL, inputs and outputs go to s3:// (a local file given as
an input is uploaded there too), and our a0 reads and writes them there.

Needs the storage emulators (`scripts/services/start.sh`, which writes the env file named by
`$FLYTE_TEST_SERVICES_ENV`).
"""

from __future__ import annotations

import os
import shlex
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import flyte
import flyte.io
from flyte_devbox import Devbox

pytestmark = [pytest.mark.integration, pytest.mark.services]

TASKS = """
import flyte
from flyte.io import File

env = flyte.TaskEnvironment(name="s3_env")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def write(text: str) -> File:
    f = File.new_remote()
    async with f.open("wb") as fh:
        await fh.write(text.encode())
    return f


@env.task
async def read(f: File) -> str:
    async with f.open("rb") as fh:
        return (await fh.read()).decode()
"""

_KEYS = ("FLYTE_AWS_ENDPOINT", "FLYTE_AWS_ACCESS_KEY_ID", "FLYTE_AWS_SECRET_ACCESS_KEY")


def _services_env() -> dict[str, str]:
    path = os.environ.get("FLYTE_TEST_SERVICES_ENV")
    if not path:
        pytest.skip(
            "FLYTE_TEST_SERVICES_ENV is not set (start the emulators: scripts/services/start.sh)"
        )
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


def test_remote_run_with_s3_blob_store(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    load: Callable[..., ModuleType],
    src_root: Path,
    make_devbox_config: Any,
    request: pytest.FixtureRequest,
) -> None:
    services = _services_env()
    if not services.get("FLYTE_TEST_S3_ENDPOINT"):
        pytest.fail("the services env file has no FLYTE_TEST_S3_ENDPOINT")
    env = {k: services[k] for k in (*_KEYS, "AWS_DEFAULT_REGION") if k in services}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    # The storage settings (and filesystems) of this process were read before these variables
    # were set: read them again now, and again after the test.
    import flyte_storage._backends as backends
    import flyte_storage._config as storage_config

    storage_config.configure(None)
    backends.clear_cache()
    monkeypatch.setattr(storage_config, "_active", None)
    request.addfinalizer(backends.clear_cache)
    import s3fs

    fs = s3fs.S3FileSystem(
        key=services["FLYTE_AWS_ACCESS_KEY_ID"],
        secret=services["FLYTE_AWS_SECRET_ACCESS_KEY"],
        client_kwargs={"endpoint_url": services["FLYTE_TEST_S3_ENDPOINT"]},
    )
    bucket = f"remote-it-{uuid.uuid4().hex[:10]}"
    fs.mkdir(bucket)

    config = make_devbox_config(tmp_path / "state", storage_uri=f"s3://{bucket}/devbox")
    config = config.replace(env={**config.env, **env})
    mod = load("s3_tasks", TASKS)
    with Devbox(config) as box:
        flyte.init(
            endpoint=box.endpoint,
            insecure=True,
            project="flytesnacks",
            domain="development",
            root_dir=src_root,
        )
        try:
            run = flyte.run(mod.square, x=9)
            run.wait()
            assert run.outputs()[0] == 81
            run = flyte.run(mod.write, text="in s3")
            run.wait()
            f = run.outputs()[0]
            local = tmp_path / "local.txt"
            local.write_text("from this machine")
            run = flyte.run(mod.read, f=flyte.io.File.from_local_sync(str(local)))
            run.wait()
            assert run.outputs()[0] == "from this machine"
            uploaded = run.inputs()["f"].path
        finally:
            flyte.init()
    assert f.path.startswith(f"s3://{bucket}/"), f.path
    assert uploaded.startswith(f"s3://{bucket}/"), uploaded  # the local input went to the store
    assert fs.cat(f.path.removeprefix("s3://")) == b"in s3"
    keys = fs.find(bucket)
    assert any(k.endswith(".tar.gz") and "/fast" in k for k in keys), keys
