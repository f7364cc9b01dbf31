"""`flyte.remote.Run` and `Action` read runs created on our devbox with raw RunService calls."""

from __future__ import annotations

import io
import time

import pytest
from remote_objects.conftest import Env

import flyte
import flyte.errors
import flyte.remote
from flyte.models import ActionPhase


def test_get_wait_outputs_inputs(env: Env) -> None:
    name = env.start("pair", x=41, label="v")
    run = flyte.remote.Run.get(name)
    assert isinstance(run, flyte.remote.Run)
    assert run.name == name
    assert run.url.endswith(f"/v2/domain/development/project/flytesnacks/runs/{name}")
    out = io.StringIO()
    run.wait(stream=out)
    assert run.phase == ActionPhase.SUCCEEDED and run.done()
    outputs = run.outputs()
    assert isinstance(outputs, flyte.remote.ActionOutputs)
    assert tuple(outputs) == (42, "v41")
    assert outputs.named_outputs == {"o0": 42, "o1": "v41"}
    assert repr(outputs) == 'ActionOutputs(o0=42, o1="v41")'
    inputs = run.inputs()
    assert isinstance(inputs, flyte.remote.ActionInputs)
    assert dict(inputs) == {"x": 41, "label": "v"}
    run.raise_for_status()  # succeeded: no error
    details = run.details()
    assert details.name == name
    assert details.action_details.task_name.endswith("pair")
    assert details.action_details.attempts >= 1
    lines = out.getvalue().splitlines()
    assert lines[0] == f"Waiting for Run '{name}'..."
    assert lines[-1].startswith(f"Run '{name}' completed successfully")


async def test_async_twins(env: Env) -> None:
    name = env.start("square", x=12)
    run = await flyte.remote.Run.get.aio(name)
    await run.wait.aio(quiet=True)
    assert (await run.outputs.aio())[0] == 144
    names = [r.name async for r in flyte.remote.Run.listall.aio(limit=500)]
    assert name in names
    seen = [d.phase_or_none async for d in run.watch()]
    assert seen[-1] == ActionPhase.SUCCEEDED


def test_failed_run_raises_typed_error(env: Env) -> None:
    name = env.start("fails", x=5)
    run = flyte.remote.Run.get(name)
    run.wait(quiet=True)
    assert run.phase == ActionPhase.FAILED
    with pytest.raises(flyte.errors.RuntimeUserError) as info:
        run.raise_for_status()
    assert info.value.code == "ValueError"
    assert "x=5 is not welcome" in str(info.value)
    with pytest.raises(flyte.errors.RuntimeUserError):
        run.outputs()
    failure = run.first_failure()
    assert failure is not None and failure.error_info.message == "x=5 is not welcome"


def test_listall_filters_by_phase_and_limit(env: Env) -> None:
    ok = env.start("square", x=3)
    bad = env.start("fails", x=1)
    flyte.remote.Run.get(ok).wait(quiet=True)
    flyte.remote.Run.get(bad).wait(quiet=True)
    succeeded = {r.name for r in flyte.remote.Run.listall(in_phase=("succeeded",), limit=500)}
    failed = {r.name for r in flyte.remote.Run.listall(in_phase=(ActionPhase.FAILED,), limit=500)}
    assert ok in succeeded and ok not in failed
    assert bad in failed and bad not in succeeded
    assert len(list(flyte.remote.Run.listall(limit=1))) == 1
    with pytest.raises(ValueError, match="Unknown phase"):
        list(flyte.remote.Run.listall(in_phase=("nope",)))


def test_watch_and_abort(env: Env) -> None:
    name = env.start("sleeper", seconds=60.0)
    run = flyte.remote.Run.get(name)
    run.wait(quiet=True, wait_for="running")
    assert run.phase == ActionPhase.RUNNING
    run.abort("enough")
    phases = [d.phase_or_none for d in run.watch()]
    assert phases[-1] == ActionPhase.ABORTED
    assert run.phase == ActionPhase.ABORTED
    with pytest.raises(flyte.errors.ActionAbortedError, match="enough"):
        run.raise_for_status()


def test_unknown_run_is_a_clear_error(env: Env) -> None:
    with pytest.raises(flyte.errors.ActionNotFoundError, match="does-not-exist"):
        flyte.remote.Run.get("does-not-exist")


def test_outputs_before_the_end_say_to_wait(env: Env) -> None:
    name = env.start("sleeper", seconds=30.0)
    run = flyte.remote.Run.get(name)
    try:
        with pytest.raises(RuntimeError, match="wait"):
            run.outputs()
    finally:
        run.abort()


def test_action_get_listall_and_logs(env: Env) -> None:
    name = env.start("sleeper", seconds=0.2, x=4)
    flyte.remote.Run.get(name).wait(quiet=True)
    actions = list(flyte.remote.Action.listall(name))
    assert [a.name for a in actions] == ["a0"]
    action = flyte.remote.Action.get(run_name=name, name="a0")
    assert action.phase == ActionPhase.SUCCEEDED and action.run_name == name
    assert action.outputs()[0] == 40 and dict(action.inputs()) == {"seconds": 0.2, "x": 4}
    details = action.sync().details if False else None  # - keep the API honest
    assert details is None
    lines = list(action.get_logs())
    assert any("slept 0.2s" in line for line in lines), lines
    buf = io.StringIO()
    action.show_logs(stream=buf)
    assert "slept 0.2s" in buf.getvalue()
    ad = flyte.remote.ActionDetails.get(run_name=name, name="a0")
    assert ad.outputs()[0] == 40
    assert ad.inputs() == {"seconds": 0.2, "x": 4}


def test_wait_prints_plain_lines_without_a_tty(env: Env) -> None:
    name = env.start("sleeper", seconds=1.5)
    run = flyte.remote.Run.get(name)
    out = io.StringIO()
    started = time.monotonic()
    run.wait(stream=out)
    assert time.monotonic() - started >= 1.0
    text = out.getvalue()
    assert "\x1b[" not in text  # no ANSI codes on a non-terminal stream
    lines = text.splitlines()
    assert lines[0] == f"Waiting for Run '{name}'..."
    assert any(line.startswith(f"Run '{name}': running") for line in lines), lines
    assert lines[-1].startswith(f"Run '{name}' completed successfully in ")
    # one line per phase change, not one per update
    assert len(lines) == len(set(lines))


def test_action_listall_for_a_fanout(env: Env) -> None:
    name = env.start("fanout", n=3)
    run = flyte.remote.Run.get(name)
    run.wait(quiet=True)
    err = run.details().action_details.error_message or ""
    assert run.phase == ActionPhase.SUCCEEDED, err
    assert run.outputs()[0] == [0, 1, 4]
    children = list(flyte.remote.Action.listall(name, parent_name="a0"))
    assert len(children) == 3 and all(c.parent_name == "a0" for c in children)
    assert sorted(
        flyte.remote.ActionDetails.get(run_name=name, name=c.name).outputs()[0] for c in children
    ) == [0, 1, 4]
    assert len(list(flyte.remote.Action.listall(name))) == 4
    done = list(flyte.remote.Action.listall(name, in_phase=("succeeded",)))
    assert len(done) == 4


def test_through_flyte_init(env: Env) -> None:
    """After `flyte.init(endpoint=...)` the objects reach that control plane."""
    from remote_objects.conftest import point_remote_at
    from remote_objects.remote_helpers import DOMAIN, PROJECT

    from flyte_client.remote import _client

    name = env.start("square", x=9)
    try:
        _client.reset()
        flyte.init(endpoint=env.devbox.endpoint, insecure=True, project=PROJECT, domain=DOMAIN)
        run = flyte.remote.Run.get(name)
        run.wait(quiet=True)
        assert run.outputs()[0] == 81
        assert run.sync() is run and run.done()
    finally:
        flyte.init()
        point_remote_at(env.devbox)


def test_through_the_client_session(env: Env) -> None:
    """With only the flyte_client session (no `configure`), its client set and defaults serve."""
    from remote_objects.conftest import point_remote_at
    from remote_objects.remote_helpers import DOMAIN, PROJECT

    import flyte_client
    from flyte_client import Config, PlatformConfig, TaskConfig
    from flyte_client.remote import _client

    name = env.start("square", x=11)
    try:
        _client.reset()
        flyte_client.init_session(
            Config(
                platform=PlatformConfig(endpoint=env.devbox.endpoint, insecure=True),
                task=TaskConfig(project=PROJECT, domain=DOMAIN),
            )
        )
        run = flyte.remote.Run.get(name)
        run.wait(quiet=True)
        assert run.outputs()[0] == 121
        assert name in {r.name for r in flyte.remote.Run.listall(limit=500)}
    finally:
        flyte_client.reset_session()
        point_remote_at(env.devbox)
