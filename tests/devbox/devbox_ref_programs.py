"""Programs the reference SDK (PyPI `flyte==2.12.1`) runs against our devbox.

They are kept as strings and written into each test's working directory, so the test does not
depend on anything outside this repository being importable, and Pants ships them with the
test (an import of this module).
"""

WORKFLOW = '''
"""Tasks for the devbox compatibility suite (run by the reference SDK, unchanged)."""
import asyncio
import os
from datetime import datetime, timedelta, timezone

import flyte

env = flyte.TaskEnvironment(name="dbx_it")


@env.task
async def square(x: int) -> int:
    return x * x


@env.task
async def explode(x: int) -> int:
    raise ValueError(f"devbox-it: cannot handle {x}")


@env.task
async def fanout(n: int) -> list[int]:
    return list(await asyncio.gather(*(square(i) for i in range(n))))


@env.task
async def sleeper(seconds: int) -> str:
    await asyncio.sleep(seconds)
    return "woke up"


@env.task
async def fan_then_sleep(n: int, seconds: int) -> list[int]:
    values = list(await asyncio.gather(*(square(i) for i in range(n))))
    await asyncio.sleep(seconds)
    return values


@env.task(cache="auto")
async def cached_square(x: int) -> int:
    log = os.environ.get("DBX_CACHE_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{x}\\n")
    return x * x


@env.task
async def cached_calls(x: int) -> list[int]:
    first = await cached_square(x)
    again = await cached_square(x)
    other = await cached_square(x + 1)
    return [first, again, other]


# Fires ~15 s after this module is imported, then every minute.
trigger_env = flyte.TaskEnvironment(name="dbx_it_trigger")


@trigger_env.task(triggers=flyte.Trigger(
    name="dbx_it_tick",
    automation=flyte.FixedRate(
        1, start_time=datetime.now(timezone.utc) - timedelta(seconds=45)),
    inputs={"x": 5, "when": flyte.TriggerTime},
))
async def ticker(x: int, when: datetime) -> int:
    print(f"ticker fired for {when.isoformat()}", flush=True)
    return x + 1
'''

DRIVER = '''
"""Drive the reference SDK's Python API; print one JSON line with what happened."""
import json
import os
import sys

import flyte
import flyte.remote


def outcome(run):
    out = {"run": run.name, "phase": str(run.phase).rsplit(".", 1)[-1]}
    details = run.details()
    action = details.pb2.action
    if action.HasField("error_info"):
        out["error"] = action.error_info.message
        out["error_kind"] = int(action.error_info.kind)
    out["attempts"] = action.status.attempts
    if out["phase"] == "SUCCEEDED":
        out["outputs"] = list(run.outputs())
    return out


def main():
    cmd = sys.argv[2]
    flyte.init_from_config(sys.argv[1])
    import wf

    if cmd == "run":
        task = getattr(wf, sys.argv[3])
        kwargs = json.loads(sys.argv[4])
        env_vars = dict(a.split("=", 1) for a in sys.argv[6:]) if len(sys.argv) > 5 else {}
        wait = sys.argv[5] == "wait" if len(sys.argv) > 5 else True
        run = flyte.with_runcontext(env_vars=env_vars).run(task, **kwargs)
        if not wait:
            print(json.dumps({"run": run.name}), flush=True)
            return
        run.wait(quiet=True)
        print(json.dumps(outcome(run)), flush=True)
    elif cmd == "wait":
        run = flyte.remote.Run.get(sys.argv[3])
        run.wait(quiet=True)
        print(json.dumps(outcome(flyte.remote.Run.get(sys.argv[3]))), flush=True)
    elif cmd == "deploy":
        deployed = flyte.deploy(getattr(wf, sys.argv[3]))
        print(json.dumps({"deployed": str(deployed)[:2000]}), flush=True)
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
    # Leave without interpreter teardown: the reference client's native HTTP threads have been
    # seen to abort the process (SIGABRT) while Python shuts down, after the result was printed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
'''
