"""Drive the reference SDK (PyPI `flyte==2.12.1`) for the compatibility test.

Run with the reference virtualenv's interpreter, never imported by our test process:

    $FLYTE_TEST_REF_VENV/bin/python ref_helper.py encode <workdir>
    $FLYTE_TEST_REF_VENV/bin/python ref_helper.py decode <workdir>

`encode` writes, for every corpus case, the reference's literal (`ref/<case>.lit`) and literal
type (`ref/<case>.lt`), and for every corpus function its `TypedInterface`, default inputs
(`TaskSpec.default_inputs`), `inputs.pb` and `outputs.pb`. `decode` reads what our side wrote
under `ours/` with the reference and checks the values. Both print a JSON report on stdout:
`{"cases": {name: "ok" | "skipped: ..." | "error: ..."}, "functions": {...}}`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import traceback
import typing
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import compat_corpus as corpus  # noqa: E402
from flyteidl2.core import interface_pb2, literals_pb2, types_pb2  # noqa: E402
from flyteidl2.task import common_pb2, task_definition_pb2  # noqa: E402

import flyte.io as fio  # noqa: E402
from flyte._context import internal_ctx  # noqa: E402
from flyte._interface import literal_to_enum  # noqa: E402
from flyte._internal.runtime import convert  # noqa: E402
from flyte._internal.runtime.types_serde import transform_native_to_typed_interface  # noqa: E402
from flyte.models import NativeInterface, RawDataPath  # noqa: E402
from flyte.types import TypeEngine  # noqa: E402


def ref_type(t: Any) -> Any:
    """The reference turns `Literal[...]` annotations into enums named LiteralEnum."""
    if typing.get_origin(t) is typing.Literal:
        return literal_to_enum(t)
    return t


def all_cases(workdir: str) -> tuple[list[Any], dict[str, str]]:
    skipped: dict[str, str] = {}
    out = corpus.cases() + corpus.io_cases(fio, workdir)
    try:
        out += corpus.pandas_cases(fio)
    except ImportError as e:
        skipped["pandas"] = f"skipped: {e}"
        skipped["dataframe_wrapped"] = f"skipped: {e}"
    return out, skipped


def _short(e: BaseException) -> str:
    return f"error: {type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


async def encode(workdir: str) -> dict[str, Any]:
    out = os.path.join(workdir, "ref")
    os.makedirs(out, exist_ok=True)
    cases, report = all_cases(workdir)
    for case in cases:
        try:
            t = ref_type(case.type)
            lt = TypeEngine.to_literal_type(t)
            lit = await TypeEngine.to_literal(case.value, t, lt)
            _write(os.path.join(out, f"{case.name}.lit"), lit.SerializeToString(deterministic=True))
            _write(os.path.join(out, f"{case.name}.lt"), lt.SerializeToString(deterministic=True))
            report[case.name] = "ok"
        except Exception as e:
            report[case.name] = _short(e)
    functions: dict[str, str] = {}
    for name, (fn, kwargs, ret) in corpus.FUNCTIONS.items():
        try:
            ni = NativeInterface.from_callable(fn)
            ti = transform_native_to_typed_interface(ni)
            assert ti is not None
            _write(os.path.join(out, f"{name}.iface"), ti.SerializeToString(deterministic=True))
            defaults = await convert.convert_upload_default_inputs(ni)
            spec = task_definition_pb2.TaskSpec(default_inputs=defaults)
            _write(
                os.path.join(out, f"{name}.defaults"), spec.SerializeToString(deterministic=True)
            )
            inputs = await convert.convert_from_native_to_inputs(ni, **kwargs)
            _write(
                os.path.join(out, f"{name}.inputs.pb"),
                inputs.proto_inputs.SerializeToString(deterministic=True),
            )
            outputs = await convert.convert_from_native_to_outputs(ret, ni)
            _write(
                os.path.join(out, f"{name}.outputs.pb"),
                outputs.proto_outputs.SerializeToString(deterministic=True),
            )
            functions[name] = "ok"
        except Exception as e:
            functions[name] = _short(e)
    return {"cases": report, "functions": functions}


def _expected_inputs(fn: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    import inspect

    out = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if pname in kwargs:
            out[pname] = kwargs[pname]
        elif param.default is not inspect.Parameter.empty:
            out[pname] = param.default
    return out


async def decode(workdir: str) -> dict[str, Any]:
    src = os.path.join(workdir, "ours")
    cases, report = all_cases(workdir)
    for case in cases:
        path = os.path.join(src, f"{case.name}.lit")
        if not os.path.exists(path):
            report[case.name] = "skipped: our side wrote no literal"
            continue
        try:
            lit = literals_pb2.Literal.FromString(_read(path))
            got = await TypeEngine.to_python_value(lit, ref_type(case.read_type()))
            lt_path = os.path.join(src, f"{case.name}.lt")
            if os.path.exists(lt_path):
                types_pb2.LiteralType.FromString(_read(lt_path))  # must parse
            report[case.name] = (
                "ok" if case.same(got) else f"error: decoded {got!r}, expected {case.want()!r}"
            )
        except Exception as e:
            report[case.name] = _short(e)
    functions: dict[str, str] = {}
    for name, (fn, kwargs, ret) in corpus.FUNCTIONS.items():
        try:
            ni = NativeInterface.from_callable(fn)
            problems = []
            ours_iface = interface_pb2.TypedInterface.FromString(
                _read(os.path.join(src, f"{name}.iface"))
            )
            theirs = transform_native_to_typed_interface(ni)
            if ours_iface != theirs:
                problems.append("typed interface differs")
            inputs = common_pb2.Inputs.FromString(_read(os.path.join(src, f"{name}.inputs.pb")))
            native = await convert.convert_inputs_to_native(convert.Inputs(proto_inputs=inputs), ni)
            want = _expected_inputs(fn, kwargs)
            if native != want:
                problems.append(f"inputs {native!r} != {want!r}")
            outputs = common_pb2.Outputs.FromString(_read(os.path.join(src, f"{name}.outputs.pb")))
            value = await convert.convert_outputs_to_native(
                ni, convert.Outputs(proto_outputs=outputs)
            )
            if value != ret:
                problems.append(f"outputs {value!r} != {ret!r}")
            functions[name] = "ok" if not problems else "error: " + "; ".join(problems)
        except Exception as e:
            functions[name] = _short(e)
    return {"cases": report, "functions": functions}


def main() -> None:
    mode, workdir = sys.argv[1], sys.argv[2]
    raw = tempfile.mkdtemp(prefix="ref-raw-", dir=workdir)
    with internal_ctx().new_raw_data_path(RawDataPath(path=raw)):
        result = asyncio.run(encode(workdir) if mode == "encode" else decode(workdir))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
