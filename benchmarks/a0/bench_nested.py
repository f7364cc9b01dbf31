"""Nested fan-out under our devbox: a parent task gathers N child task calls, ours vs the reference.

The same code bundle and the same task spec (built by `flyte_client._spec`) run twice on a fresh
devbox: once with our `a0` (`python -m flyte_runtime._entrypoint`) for every action, once with the
reference SDK's `a0` (`$REF_VENV/bin/a0`). Each action is a real process; the parent's calls
travel through the devbox's QueueService/StateService (or ActionsService with `--actions`).
Measured: wall time from CreateRun until the parent is terminal, and the time per child.

Usage (needs our libraries on the path, e.g. /opt/ours-python):
    python benchmarks/a0/bench_nested.py [-n 50] [--concurrency 4] [--actions]
        [--children a0|noop] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import importlib
import io
import json
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

MODULE = "bench_nested_tasks"
TASKS = """
import asyncio

import flyte

env = flyte.TaskEnvironment(name="benchnest")


@env.task
async def leaf(x: int) -> int:
    return x + 1


@env.task
async def parent(n: int) -> int:
    return sum(await asyncio.gather(*(leaf(i) for i in range(n))))


noop = flyte.TaskEnvironment(name="noop", image="noop.example/noop:1")


@noop.task
async def tick(i: int) -> None:
    pass


@env.task
async def wide(n: int) -> int:
    await asyncio.gather(*(tick(i) for i in range(n)))
    return n
"""
PROJECT, DOMAIN = "flytesnacks", "development"


async def run_once(root: Path, command: tuple[str, ...], env: dict[str, str], opts: Any) -> float:
    import httpx
    from flyteidl2.common import identifier_pb2, phase_pb2
    from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2
    from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClient
    from flyteidl2.task import run_pb2
    from flyteidl2.workflow import run_service_pb2
    from flyteidl2.workflow.run_service_connect import RunServiceClient

    import flyte_types
    from flyte_client._spec import translate_task_to_spec
    from flyte_devbox import Devbox, DevboxConfig
    from flyte_models import CodeBundle, SerializationContext
    from flyte_runtime._resolver import install_default_resolver

    mod = importlib.import_module(MODULE)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(root / f"{MODULE}.py", arcname=f"{MODULE}.py")
    data = buf.getvalue()
    state = Path(tempfile.mkdtemp(prefix="state-", dir=root))
    config = DevboxConfig(
        port=0,
        state_dir=state,
        a0_command=command,
        env=env,
        max_concurrent_actions=opts.concurrency,
        use_actions_service=opts.actions,
        max_system_retries=0,
        # --children noop: the children run `true` instead of a0, so the run measures the
        # parent's in-task controller and the control plane, not Python start-up.
        image_a0_commands={"noop.example/*": ("true",)},
    )
    with Devbox(config) as box:
        async with DataProxyServiceClient(box.url) as dp:
            loc = await dp.create_upload_location(
                dp_pb2.CreateUploadLocationRequest(
                    project=PROJECT,
                    domain=DOMAIN,
                    filename="fast.tar.gz",
                    content_md5=hashlib.md5(data).digest(),
                    add_content_md5_metadata=True,
                )
            )
        async with httpx.AsyncClient() as http:
            md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
            (
                await http.put(loc.signed_url, content=data, headers={"Content-MD5": md5})
            ).raise_for_status()
        install_default_resolver()
        sctx = SerializationContext(
            version="v1",
            project=PROJECT,
            domain=DOMAIN,
            code_bundle=CodeBundle(tgz=loc.native_url, computed_version="v1"),
            root_dir=root,
        )
        root_task = mod.wide if opts.children == "noop" else mod.parent
        spec = translate_task_to_spec(root_task, sctx, image_uri="bench")
        inputs = await flyte_types.build_inputs(root_task.interface, {"n": opts.n})
        async with RunServiceClient(box.url) as runs:
            t0 = time.monotonic()
            created = await runs.create_run(
                run_service_pb2.CreateRunRequest(
                    project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
                    task_spec=spec,
                    inputs=inputs,
                    run_spec=run_pb2.RunSpec(),
                )
            )
            req = run_service_pb2.WatchActionDetailsRequest(action_id=created.run.action.id)
            async for resp in runs.watch_action_details(req):
                phase = resp.details.status.phase
                if phase == phase_pb2.ACTION_PHASE_SUCCEEDED:
                    return time.monotonic() - t0
                if phase in (phase_pb2.ACTION_PHASE_FAILED, phase_pb2.ACTION_PHASE_ABORTED):
                    raise SystemExit(f"the parent failed: {resp.details.error_info}")
    raise SystemExit("the watch ended before the run finished")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=50, help="children of the parent")
    ap.add_argument("--concurrency", type=int, default=4, help="devbox max_concurrent_actions")
    ap.add_argument("--actions", action="store_true", help="use ActionsService")
    ap.add_argument(
        "--children",
        choices=["a0", "noop"],
        default="a0",
        help="a0: every child runs the runtime; noop: children run `true` (controller overhead)",
    )
    ap.add_argument("--ref-venv", default=os.environ.get("REF_VENV", "/opt/ref/venv"))
    ap.add_argument("--json", help="also write the results here")
    opts = ap.parse_args()

    ours_path = os.pathsep.join(os.path.abspath(p) for p in sys.path if p)
    ref_a0 = Path(opts.ref_venv) / "bin" / "a0"
    sides: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
        "ours": ((sys.executable, "-m", "flyte_runtime._entrypoint"), {"PYTHONPATH": ours_path}),
    }
    if ref_a0.exists():
        # The reference's controller limits itself to 100 enqueues/s unless told otherwise.
        sides["reference"] = ((str(ref_a0),), {"_F_MAX_QPS": "10000"})
    else:
        print(f"note: {ref_a0} not found; measuring ours only", file=sys.stderr)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-nested-") as d:
        root = Path(d)
        (root / f"{MODULE}.py").write_text(TASKS)
        sys.path.insert(0, str(root))
        for side, (command, env) in sides.items():
            wall = asyncio.run(run_once(root, command, env, opts))
            results[side] = {"wall_s": wall, "per_child_ms": wall / opts.n * 1000}
    service = "ActionsService" if opts.actions else "Queue/State"
    print(
        f"nested fan-out: 1 parent + {opts.n} {opts.children} children over {service}, "
        f"{opts.concurrency} slots"
    )
    for side, r in results.items():
        print(f"{side:<10} {r['wall_s']:>7.2f} s   {r['per_child_ms']:>6.0f} ms/child")
    if "reference" in results:
        ratio = results["ours"]["wall_s"] / results["reference"]["wall_s"]
        results["ratio"] = ratio
        print(f"ratio ours/reference: {ratio:.2f}")
    if opts.json:
        Path(opts.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
