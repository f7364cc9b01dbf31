"""Secrets end to end: created with `flyte.remote.Secret`, read by task code running in our a0
on the devbox (as an environment variable, or as a file), and a clear failure when one is
missing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

import flyte
import flyte.errors
import flyte.remote
from flyte_devbox import Devbox, DevboxConfig

pytestmark = pytest.mark.integration

Load = Callable[..., ModuleType]

TASKS = """
import os
import pathlib

import flyte

token_env = flyte.TaskEnvironment(
    name="token_env", secrets=flyte.Secret(key="token", as_env_var="MY_TOKEN")
)
default_env = flyte.TaskEnvironment(name="default_env", secrets="api-key")
file_env = flyte.TaskEnvironment(
    name="file_env",
    secrets=flyte.Secret(key="cert", group="tls", mount=pathlib.Path("/etc/flyte/secrets")),
)
missing_env = flyte.TaskEnvironment(
    name="missing_env", secrets=flyte.Secret(key="never-created", as_env_var="NEVER")
)
parent_env = flyte.TaskEnvironment(name="parent_env", depends_on=[token_env])


@token_env.task
async def read_token() -> str:
    return os.environ["MY_TOKEN"]


@default_env.task
async def read_default() -> str:
    return os.environ["API_KEY"]


@file_env.task
async def read_file() -> str:
    root = pathlib.Path(os.environ["FLYTE_SECRETS_DEFAULT_DIR"])
    return (root / "tls" / "cert").read_text()


@missing_env.task
async def read_missing() -> str:
    return os.environ.get("NEVER", "<unset>")


@parent_env.task
async def parent() -> str:
    # The parent itself has no secrets; its child action gets its own.
    return "child saw " + await read_token() + ", parent saw " + os.environ.get("MY_TOKEN", "none")
"""


@pytest.fixture
def secrets(remote: Devbox) -> Iterator[dict[str, str]]:
    """Secrets of this test in the devbox's flytesnacks/development scope, deleted afterwards."""
    values = {
        "token": f"tok-{uuid.uuid4().hex[:8]}",
        "api-key": "key-123",
        "cert": "-----BEGIN CERT-----\nabc\n",
    }
    for name, value in values.items():
        flyte.remote.Secret.create(name, value)
    try:
        yield values
    finally:
        for name in values:
            flyte.remote.Secret.delete(name)


def outputs(run: flyte.remote.Run) -> tuple:  # type: ignore[name-defined]
    run.wait()
    return run.outputs()


def test_task_reads_its_secret_as_the_env_var_it_asked_for(
    secrets: dict[str, str], load: Load
) -> None:
    mod = load("secret_tasks", TASKS)
    assert outputs(flyte.run(mod.read_token))[0] == secrets["token"]
    assert outputs(flyte.run(mod.read_default))[0] == "key-123"


def test_task_reads_its_secret_as_a_file(secrets: dict[str, str], load: Load) -> None:
    mod = load("secret_tasks", TASKS)
    assert outputs(flyte.run(mod.read_file))[0] == secrets["cert"]


def test_child_action_gets_its_secrets_and_the_parent_does_not(
    secrets: dict[str, str], load: Load
) -> None:
    mod = load("secret_tasks", TASKS)
    out = outputs(flyte.run(mod.parent))[0]
    assert out == f"child saw {secrets['token']}, parent saw none"


def test_an_updated_secret_reaches_the_next_run(secrets: dict[str, str], load: Load) -> None:
    mod = load("secret_tasks", TASKS)
    flyte.remote.Secret.delete("token")
    flyte.remote.Secret.create("token", "rotated")
    assert outputs(flyte.run(mod.read_token))[0] == "rotated"


def test_a_missing_secret_fails_the_run_and_names_it(remote: Devbox, load: Load) -> None:
    mod = load("secret_tasks", TASKS)
    run = flyte.run(mod.read_missing)
    with pytest.raises(flyte.errors.RuntimeUserError, match="never-created"):
        run.wait()
        run.outputs()


REF_SCRIPT = """
import os, sys

import flyte
import flyte.remote

env = flyte.TaskEnvironment(name="refsec", secrets=flyte.Secret(key="ref-token", as_env_var="TOK"))


@env.task
async def read() -> str:
    return os.environ["TOK"]


if __name__ == "__main__":
    flyte.init(endpoint=sys.argv[1], insecure=True, project="flytesnacks", domain="development")
    flyte.remote.Secret.create("ref-token", "from-the-reference-sdk")
    print("NAMES", sorted(s.name for s in flyte.remote.Secret.listall()))
    run = flyte.run(read)
    run.wait()
    print("OUT", run.outputs()[0])
    flyte.remote.Secret.delete("ref-token")
"""


def test_reference_sdk_script_with_a_secret_runs_unchanged(tmp_path: Path) -> None:
    """The reference SDK (client and its own a0) creates a secret and a task reads it."""
    import os
    import subprocess

    value = os.environ.get("FLYTE_TEST_REF_VENV")
    if not value:
        pytest.skip(
            "FLYTE_TEST_REF_VENV is not set (a virtualenv with PyPI flyte==2.12.1; "
            "scripts/ref-venv.sh creates one)"
        )
    venv = Path(value)
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "refsec.py").write_text(REF_SCRIPT)
    config = DevboxConfig(
        port=0, state_dir=tmp_path / "state", a0_command=(str(venv / "bin" / "a0"),)
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "PYTHONPATH" and not k.startswith(("FLYTE_", "_U_", "_F_", "UCTL_"))
    }
    with Devbox(config) as box:
        r = subprocess.run(
            [str(venv / "bin" / "python"), "refsec.py", box.endpoint],
            cwd=tmp_path / "proj",
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "NAMES ['ref-token']" in r.stdout, r.stdout
    assert "OUT from-the-reference-sdk" in r.stdout, r.stdout
