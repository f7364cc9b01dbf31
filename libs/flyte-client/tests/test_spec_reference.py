"""Our TaskSpec equals the reference SDK's for the same task, field for field.

The reference runs in its own virtualenv (`$FLYTE_TEST_REF_VENV`, created by
`scripts/ref-venv.sh`) and serializes the tasks with its own translator; we translate the same
source with ours and compare the messages. The only differences allowed are the runtime version
string; the image is passed explicitly because the default-image URI is not under test here.
"""

from __future__ import annotations

import importlib
import json
import os
import pathlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from flyteidl2.task import task_definition_pb2

from flyte_client._spec import translate_task_to_spec
from flyte_models import CodeBundle, SerializationContext

MODULE = "ref_spec_tasks"
OURS = "our_spec_tasks"
TASKS = textwrap.dedent(
    """
    from datetime import timedelta
    import flyte

    env = flyte.TaskEnvironment(
        name="specenv",
        resources=flyte.Resources(cpu=(1, 2), memory="1Gi"),
        env_vars={"A": "1"},
        secrets=[flyte.Secret(key="k", as_env_var="K")],
    )
    gpu = flyte.TaskEnvironment(
        name="gpuenv",
        resources=flyte.Resources(gpu="A100:2", disk="10Gi", shm="auto"),
        reusable=flyte.ReusePolicy(replicas=(1, 3), idle_ttl=60),
    )


    @env.task(
        retries=3,
        cache=flyte.Cache(behavior="auto", version_override="cv1", ignored_inputs=("y",)),
        timeout=flyte.Timeout(max_runtime=60, deadline=600),
        interruptible=True,
        short_name="sq",
    )
    async def square(x: int, y: str = "a") -> int:
        return x * x


    @gpu.task
    def pair(x: int) -> tuple[int, str]:
        return x, "s"


    @env.task(cache="auto")
    async def plain(x: list[int], m: dict[str, float] | None = None) -> dict[str, float]:
        return {}


    @env.task(pod_template="named-template")
    async def pod_named(x: int) -> int:
        return x
    """
)
NAMES = ["square", "pair", "plain", "pod_named"]
IMAGE = "ghcr.io/flyteorg/flyte:py3.11-v2.12.1"
REF_SCRIPT = textwrap.dedent(
    """
    import json, pathlib, sys
    root = pathlib.Path(sys.argv[1]); sys.path.insert(0, str(root))
    import importlib
    from flyte.models import CodeBundle, SerializationContext
    from flyte._internal.runtime.task_serde import translate_task_to_wire
    mod = importlib.import_module(sys.argv[2])
    ctx = SerializationContext(
        version="v1", project="p", domain="d", org="o", root_dir=root,
        code_bundle=CodeBundle(tgz="s3://b/fast.tar.gz", computed_version="v1", destination="."),
    )
    print(json.dumps({n: translate_task_to_wire(getattr(mod, n), ctx).SerializeToString().hex()
                      for n in sys.argv[3:]}))
    """
)


def _ref_python() -> str:
    venv = os.environ.get("FLYTE_TEST_REF_VENV")
    if not venv:
        pytest.skip(
            "FLYTE_TEST_REF_VENV is not set: point it at a virtualenv with the reference SDK "
            "(scripts/ref-venv.sh creates one) to compare TaskSpecs with it"
        )
    python = pathlib.Path(venv) / "bin" / "python"
    if not python.exists():
        pytest.fail(f"FLYTE_TEST_REF_VENV={venv} has no bin/python")
    return str(python)


class _Resolver:
    """Names the reference's resolver so that the argument lists can be compared as a whole."""

    import_path = "flyte._internal.resolvers.default.DefaultTaskResolver"

    def loader_args(self, task: Any, root_dir: Any) -> list[str]:
        return ["mod", MODULE, "instance", task.func.__name__]

    def load_task(self, loader_args: list[str]) -> Any:  # pragma: no cover - not loaded here
        raise NotImplementedError


@pytest.fixture
def source(tmp_path: pathlib.Path) -> Iterator[tuple[pathlib.Path, Any]]:
    # The reference imports `flyte`; ours gets the same names from flyte_models (this library may
    # not depend on the runtime's `flyte` facade).
    (tmp_path / f"{MODULE}.py").write_text(TASKS)
    (tmp_path / f"{OURS}.py").write_text(
        TASKS.replace("import flyte\n", "import flyte_models as flyte\n")
    )
    sys.path.insert(0, str(tmp_path))
    sys.modules.pop(OURS, None)
    try:
        yield tmp_path, importlib.import_module(OURS)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(OURS, None)


def test_task_specs_match_the_reference(source: tuple[pathlib.Path, Any]) -> None:
    python = _ref_python()
    root, mod = source
    out = subprocess.run(
        [python, "-c", REF_SCRIPT, str(root), MODULE, *NAMES],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.returncode == 0, out.stderr
    reference = json.loads(out.stdout.strip().splitlines()[-1])
    ctx = SerializationContext(
        version="v1",
        project="p",
        domain="d",
        org="o",
        code_bundle=CodeBundle(tgz="s3://b/fast.tar.gz", computed_version="v1"),
        root_dir=root,
    )
    for name in NAMES:
        task = getattr(mod, name)
        task.task_resolver = _Resolver()
        ref = task_definition_pb2.TaskSpec.FromString(bytes.fromhex(reference[name]))
        ours = translate_task_to_spec(task, ctx, image_uri=IMAGE, documentation=False)
        for spec in (ref, ours):
            spec.task_template.metadata.runtime.version = ""
        assert ours == ref, f"{name}:\nREFERENCE\n{ref}\nOURS\n{ours}"
