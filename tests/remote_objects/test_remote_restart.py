"""`Run.wait()` survives a control plane restart: the devbox stops while the run is in progress
and starts again on the same port and state; the watch re-subscribes and the outputs are right."""

from __future__ import annotations

import asyncio
import importlib
import io
import sys
import threading
import time
from pathlib import Path

import pytest
from remote_objects.conftest import point_remote_at
from remote_objects.remote_helpers import (
    DOMAIN,
    MODULE,
    PROJECT,
    bundle_bytes,
    create_run,
    our_devbox_config,
    task_spec,
    upload,
    write_tasks,
)

import flyte.remote
import flyte_client
from flyte.models import ActionPhase
from flyte_client import Config, PlatformConfig, TaskConfig
from flyte_client.remote import _client
from flyte_devbox import Devbox


@pytest.fixture
def mod(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "src"
    write_tasks(root)
    sys.path.insert(0, str(root))
    sys.modules.pop(MODULE, None)
    yield root, importlib.import_module(MODULE)
    sys.modules.pop(MODULE, None)
    sys.path.remove(str(root))


@pytest.mark.parametrize("connection", ["configure", "session"])
def test_wait_resumes_across_a_devbox_restart(  # type: ignore[no-untyped-def]
    tmp_path: Path, mod, connection: str
) -> None:
    root, module = mod
    state = tmp_path / "state"
    first = Devbox(our_devbox_config(state)).start()
    port = first.port
    second: Devbox | None = None
    try:
        url = asyncio.run(upload(first, bundle_bytes(root)))
        spec = task_spec(module.sleeper, url, root)
        name = asyncio.run(create_run(first, spec, module.sleeper, seconds=4.0, x=7))
        if connection == "session":  # the flyte_client session's channel (auth/retry interceptors)
            flyte_client.init_session(
                Config(
                    platform=PlatformConfig(endpoint=first.endpoint, insecure=True),
                    task=TaskConfig(project=PROJECT, domain=DOMAIN),
                )
            )
        else:
            point_remote_at(first)
        run = flyte.remote.Run.get(name)
        run.wait(quiet=True, wait_for="running")
        assert run.phase == ActionPhase.RUNNING

        out = io.StringIO()
        errors: list[BaseException] = []

        def waiter() -> None:
            try:
                run.wait(stream=out)
            except BaseException as exc:  # - reported below
                errors.append(exc)

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.5)
        first.stop()
        time.sleep(1.0)  # the watch is now failing to reconnect
        assert thread.is_alive(), f"wait() returned while the devbox was down: {errors}"
        second = Devbox(our_devbox_config(state, port=port)).start()
        thread.join(90)
        assert not thread.is_alive(), "wait() did not return after the devbox came back"
        assert not errors, errors
        assert run.phase == ActionPhase.SUCCEEDED
        assert run.outputs()[0] == 70
        details = run.details()
        assert details.action_details.attempts == 2  # the interrupted attempt was retried
        assert out.getvalue().splitlines()[-1].startswith(f"Run '{name}' completed successfully")
    finally:
        _client.reset()
        flyte_client.reset_session()
        first.stop()
        if second is not None:
            second.stop()
