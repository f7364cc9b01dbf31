"""`flyte.ctx()` and the custom context that flows from a run to every action in it."""

from __future__ import annotations

from pathlib import Path

import pytest

import flyte

env = flyte.TaskEnvironment(name="test_context")


@env.task
async def describe() -> dict[str, str]:
    tctx = flyte.ctx()
    return {
        "action": tctx.action.name,
        "run": str(tctx.action.run_name),
        "project": str(tctx.action.project),
        "domain": str(tctx.action.domain),
        "mode": tctx.mode,
        "raw": tctx.raw_data_path.path,
        "base": str(tctx.run_base_dir),
        "truthy": str(bool(tctx)),
    }


@env.task
async def describe_child() -> dict[str, str]:
    return await describe()


@env.task
def sync_describe() -> dict[str, str]:
    tctx = flyte.ctx()
    return {"action": tctx.action.name, "mode": tctx.mode}


@env.task
async def read_context() -> dict[str, str]:
    return flyte.get_custom_context()


@env.task
async def grandchild_context() -> dict[str, str]:
    return await read_context()


@env.task
async def layered_context() -> list[dict[str, str]]:
    seen = [flyte.get_custom_context(), await read_context()]
    with flyte.custom_context(team="ml", stage="train"):
        seen.append(flyte.get_custom_context())
        seen.append(await read_context())
        with flyte.custom_context(stage="eval"):
            seen.append(await grandchild_context())
    seen.append(await read_context())  # the block's values are gone again
    return seen


@env.task
async def mapped_context(n: int) -> list[dict[str, str]]:
    with flyte.custom_context(shard="all"):
        return [r async for r in flyte.map.aio(read_context_of, range(n))]


@env.task
async def read_context_of(i: int) -> dict[str, str]:
    return {**flyte.get_custom_context(), "i": str(i)}


def test_ctx_is_falsy_outside_a_task() -> None:
    assert not flyte.ctx()


def test_ctx_of_the_root_action(local_root: Path) -> None:
    run = flyte.run(describe)
    got = run.outputs()[0]
    assert got["action"] == "a0"
    assert got["run"] == run.name
    assert got["mode"] == "local"
    assert got["truthy"] == "True"
    assert got["base"] == run.url
    assert Path(got["raw"]) == local_root / "raw_data" / run.name


def test_ctx_of_a_child_action() -> None:
    run = flyte.run(describe_child)
    got = run.outputs()[0]
    assert got["action"] != "a0" and len(got["action"]) == 25
    assert got["run"] == run.name and got["mode"] == "local"


def test_ctx_in_a_sync_task() -> None:
    assert flyte.run(sync_describe).outputs()[0] == {"action": "a0", "mode": "local"}


def test_project_and_domain_come_from_init() -> None:
    flyte.init(project="flytesnacks", domain="development")
    got = flyte.run(describe).outputs()[0]
    assert (got["project"], got["domain"]) == ("flytesnacks", "development")


def test_run_custom_context_reaches_every_action() -> None:
    runner = flyte.with_runcontext(custom_context={"experiment": "e42"})
    assert runner.run(read_context).outputs()[0] == {"experiment": "e42"}
    assert runner.run(grandchild_context).outputs()[0] == {"experiment": "e42"}
    assert flyte.run(read_context).outputs()[0] == {}


def test_custom_context_blocks_inside_a_task_layer_and_unwind() -> None:
    got = flyte.with_runcontext(custom_context={"run": "r"}).run(layered_context).outputs()[0]
    assert got == [
        {"run": "r"},
        {"run": "r"},
        {"run": "r", "team": "ml", "stage": "train"},
        {"run": "r", "team": "ml", "stage": "train"},
        {"run": "r", "team": "ml", "stage": "eval"},
        {"run": "r"},
    ]


def test_custom_context_outside_a_task_applies_to_runs_in_the_block() -> None:
    assert flyte.get_custom_context() == {}
    with flyte.custom_context(user="ada"):
        assert flyte.get_custom_context() == {"user": "ada"}
        got = flyte.with_runcontext(custom_context={"run": "r"}).run(read_context)
        assert got.outputs()[0] == {"user": "ada", "run": "r"}
    assert flyte.get_custom_context() == {}
    assert flyte.run(read_context).outputs()[0] == {}


def test_custom_context_values_must_be_strings() -> None:
    with pytest.raises(TypeError, match="strings"), flyte.custom_context(n=1):  # type: ignore[arg-type]
        pass


def test_custom_context_reaches_mapped_children() -> None:
    got = flyte.with_runcontext(custom_context={"run": "r"}).run(mapped_context, 2).outputs()[0]
    assert got == [{"run": "r", "shard": "all", "i": "0"}, {"run": "r", "shard": "all", "i": "1"}]


def test_child_actions_do_not_inherit_the_parents_pre_data() -> None:
    import flyte
    from flyte_models import AsyncFunctionTaskTemplate

    class WithPre(AsyncFunctionTaskTemplate):  # type: ignore[type-arg]
        async def pre(self, *args: object, **kwargs: object) -> dict[str, object]:
            return {"parent_only": "yes"}

    env = flyte.TaskEnvironment(name="pre_data")

    @env.task
    async def child() -> str:
        return str(flyte.ctx().data.get("parent_only"))

    async def parent_fn() -> tuple[str, str]:
        return str(flyte.ctx().data.get("parent_only")), await child()

    parent = WithPre(
        name="pre_data.parent",
        interface=flyte.models.NativeInterface.from_callable(parent_fn),
        func=parent_fn,
    )
    run = flyte.run(parent)
    assert tuple(run.outputs()) == ("yes", "None")
