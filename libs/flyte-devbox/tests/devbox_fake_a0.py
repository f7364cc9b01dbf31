"""A stand-in for the runtime's `a0`, for hermetic devbox tests.

It accepts the real `a0` arguments, and does what the `FAKE_MODE` environment variable (set in
the task's container env) says:

* `square` (default): read `x` from inputs.pb, write `o0 = x * x` to outputs.pb;
* `fail`: write a recoverable user error to error.pb (and exit 0, as the real runtime does);
* `flaky`: fail like `fail` on the first attempt, then behave like `square`;
* `crash`: print to stderr and exit 3 without error.pb;
* `sleep`: print a line, sleep `FAKE_SLEEP` seconds (default 60), then `square`;
* `nooutputs`: exit 0 without writing anything;
* `env`: print the environment and the arguments as JSON, then `square`;
* `report`: write report.html, then `square`;
* `secrets`: print as JSON the `FAKE_SECRET_ENV` variables (comma-separated names) and every
  file under `$FLYTE_SECRETS_DEFAULT_DIR`, then `square`.

With `FAKE_RECORD` set (any mode), it first appends `<run> <action> <attempt>` to that file: the
tests count the processes that really ran (e.g. none for a task cache hit).
"""

from __future__ import annotations

import json
import os
import sys
import time


def _arg(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1] if name in argv else ""


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main(argv: list[str] | None = None) -> int:
    from flyteidl2.core import execution_pb2, literals_pb2
    from flyteidl2.task import common_pb2

    argv = sys.argv[1:] if argv is None else argv
    mode = os.environ.get("FAKE_MODE", "square")
    out = _arg(argv, "--outputs-path")
    inputs_path = _arg(argv, "--inputs")
    print(f"fake a0 starting: mode={mode} action={os.environ.get('ACTION_NAME')}", flush=True)
    record = os.environ.get("FAKE_RECORD")
    if record:
        with open(record, "a") as f:
            f.write(
                f"{os.environ.get('RUN_NAME')} {os.environ.get('ACTION_NAME')} "
                f"{os.environ.get('FLYTE_ATTEMPT_NUMBER')}\n"
            )

    def square() -> int:
        x = 0
        if inputs_path and os.path.exists(inputs_path):
            with open(inputs_path, "rb") as f:
                inputs = common_pb2.Inputs.FromString(f.read())
            for nl in inputs.literals:
                if nl.name == "x":
                    x = nl.value.scalar.primitive.integer
        value = literals_pb2.Literal(
            scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=x * x))
        )
        outputs = common_pb2.Outputs(literals=[common_pb2.NamedLiteral(name="o0", value=value)])
        _write(os.path.join(out, "outputs.pb"), outputs.SerializeToString())
        return 0

    def fail(message: str) -> int:
        doc = execution_pb2.ErrorDocument(
            error=execution_pb2.ContainerError(
                code="ValueError",
                message=message,
                kind=execution_pb2.ContainerError.RECOVERABLE,
                origin=execution_pb2.ExecutionError.USER,
            )
        )
        _write(os.path.join(out, "error.pb"), doc.SerializeToString())
        return 0

    if mode == "fail":
        return fail("bad value from fake a0")
    if mode == "flaky":
        if os.environ.get("FLYTE_ATTEMPT_NUMBER", "0") == "0":
            return fail("first attempt always fails")
        return square()
    if mode == "crash":
        print("something went badly wrong", file=sys.stderr, flush=True)
        return 3
    if mode == "sleep":
        print("sleeping", flush=True)
        time.sleep(float(os.environ.get("FAKE_SLEEP", "60")))
        return square()
    if mode == "nooutputs":
        return 0
    if mode == "env":
        print(json.dumps({"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}), flush=True)
        return square()
    if mode == "secrets":
        names = [n for n in os.environ.get("FAKE_SECRET_ENV", "").split(",") if n]
        root = os.environ.get("FLYTE_SECRETS_DEFAULT_DIR", "")
        files = {}
        if root:
            for d, _, fs in os.walk(root):
                for name in fs:
                    path = os.path.join(d, name)
                    with open(path) as f:
                        files[os.path.relpath(path, root)] = f.read()
        shown = {"env": {n: os.environ.get(n) for n in names}, "files": files}
        print("SECRETS " + json.dumps(shown), flush=True)
        return square()
    if mode == "report":
        _write(os.path.join(out, "report.html"), b"<html>report</html>")
        return square()
    return square()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
