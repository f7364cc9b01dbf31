"""Two-way wire compatibility of flyte_types with the reference SDK (PyPI `flyte==2.12.1`).

The reference runs in its own virtualenv (`$FLYTE_TEST_REF_VENV`, created by CI with
`python3.11 -m venv $DIR && $DIR/bin/pip install flyte==2.12.1`) and is driven through
`ref_helper.py` as a subprocess; the two sides exchange serialized `Literal` / `LiteralType` /
`TypedInterface` / `inputs.pb` / `outputs.pb` bytes through files. For every case of
`compat_corpus.py`:

* we decode the reference's literal to an equal value;
* the reference decodes our literal to an equal value;
* both write the same `LiteralType`, and byte-identical literals where the encoding is
  deterministic (not for random upload paths).

For every corpus function: the same `TypedInterface` and default inputs, and `inputs.pb` /
`outputs.pb` readable in both directions.

Without `FLYTE_TEST_REF_VENV` the module is skipped; with it set but unusable, it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flyteidl2.core import interface_pb2, literals_pb2, types_pb2
from flyteidl2.task import common_pb2, task_definition_pb2
from google.protobuf import text_format

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import compat_corpus as corpus  # noqa: E402

import flyte_types.io as fio  # noqa: E402
from flyte_models import NativeInterface  # noqa: E402
from flyte_types import (  # noqa: E402
    TypeEngine,
    build_inputs,
    build_outputs,
    read_inputs,
    read_outputs,
    translate_default_inputs,
    translate_interface,
)

pytestmark = [pytest.mark.integration, pytest.mark.reference]

REF_VERSION = "2.12.1"
HELPER = HERE / "ref_helper.py"


def _io_case_names() -> list[str]:
    with tempfile.TemporaryDirectory() as d:
        return [c.name for c in corpus.io_cases(fio, d)]


def _pandas_case_names() -> list[str]:
    try:
        return [c.name for c in corpus.pandas_cases(fio)]
    except ImportError:
        return []


CASE_NAMES = [c.name for c in corpus.cases()] + _io_case_names() + _pandas_case_names()


@dataclass
class Exchange:
    workdir: Path
    ref_encoded: dict[str, Any]
    ref_decoded: dict[str, Any]
    cases: dict[str, corpus.Case]
    ours: dict[str, bytes]


def _ref_python() -> str:
    venv = os.environ.get("FLYTE_TEST_REF_VENV")
    if not venv:
        pytest.skip(
            "FLYTE_TEST_REF_VENV is not set: point it at a virtualenv with the reference SDK "
            f"(python3.11 -m venv $DIR && $DIR/bin/pip install flyte=={REF_VERSION})"
        )
    python = Path(venv) / "bin" / "python"
    if not python.exists():
        pytest.fail(f"FLYTE_TEST_REF_VENV={venv} has no bin/python")
    probe = subprocess.run(
        [str(python), "-c", "import flyte; print(flyte.__version__)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        pytest.fail(f"the reference SDK does not import in {venv}:\n{probe.stderr[-2000:]}")
    if probe.stdout.strip() != REF_VERSION:
        pytest.fail(f"{venv} has flyte {probe.stdout.strip()}, expected {REF_VERSION}")
    return str(python)


def _run_helper(python: str, mode: str, workdir: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FLYTE_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(
        [python, str(HELPER), mode, str(workdir)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=str(workdir),
    )
    if proc.returncode != 0:
        pytest.fail(f"ref_helper {mode} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


async def _encode_ours(workdir: Path, cases: list[corpus.Case]) -> dict[str, bytes]:
    out = workdir / "ours"
    out.mkdir(exist_ok=True)
    written: dict[str, bytes] = {}
    for case in cases:
        lt = TypeEngine.to_literal_type(case.type)
        lit = await TypeEngine.to_literal(case.value, case.type, lt)
        data = lit.SerializeToString(deterministic=True)
        (out / f"{case.name}.lit").write_bytes(data)
        (out / f"{case.name}.lt").write_bytes(lt.SerializeToString(deterministic=True))
        written[case.name] = data
    for name, (fn, kwargs, ret) in corpus.FUNCTIONS.items():
        ni = NativeInterface.from_callable(fn)
        (out / f"{name}.iface").write_bytes(
            translate_interface(ni).SerializeToString(deterministic=True)
        )
        inputs = await build_inputs(ni, kwargs)
        (out / f"{name}.inputs.pb").write_bytes(inputs.SerializeToString(deterministic=True))
        outputs = await build_outputs(ni, ret)
        (out / f"{name}.outputs.pb").write_bytes(outputs.SerializeToString(deterministic=True))
    return written


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Exchange:
    python = _ref_python()
    workdir = tmp_path_factory.mktemp("compat")
    cases = corpus.cases() + corpus.io_cases(fio, str(workdir))
    try:
        cases += corpus.pandas_cases(fio)
    except ImportError:
        pass
    ref_encoded = _run_helper(python, "encode", workdir)
    ours = asyncio.run(_encode_ours(workdir, cases))
    ref_decoded = _run_helper(python, "decode", workdir)
    return Exchange(workdir, ref_encoded, ref_decoded, {c.name: c for c in cases}, ours)


def _case(exchange: Exchange, name: str) -> corpus.Case:
    if name not in exchange.cases:
        pytest.skip(f"case {name} needs a library this interpreter lacks")
    return exchange.cases[name]


def _ref_status(report: dict[str, Any], name: str) -> str:
    status = str(report["cases"].get(name, "missing"))
    if status.startswith("skipped"):
        pytest.skip(f"the reference side could not run case {name}: {status}")
    return status


@pytest.mark.parametrize("name", CASE_NAMES)
def test_we_decode_reference_literals(exchange: Exchange, name: str) -> None:
    case = _case(exchange, name)
    status = _ref_status(exchange.ref_encoded, name)
    assert status == "ok", f"the reference could not encode {name}: {status}"
    lit = literals_pb2.Literal.FromString((exchange.workdir / "ref" / f"{name}.lit").read_bytes())
    got = TypeEngine.to_python_value_sync(lit, case.read_type())
    assert case.same(got), f"decoded {got!r}, expected {case.want()!r}"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_reference_decodes_our_literals(exchange: Exchange, name: str) -> None:
    _case(exchange, name)
    status = _ref_status(exchange.ref_decoded, name)
    assert status == "ok", f"the reference could not decode our {name}: {status}"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_same_literal_type(exchange: Exchange, name: str) -> None:
    case = _case(exchange, name)
    _ref_status(exchange.ref_encoded, name)
    if not case.same_type:
        pytest.skip("literal types differ by design")
    theirs = types_pb2.LiteralType.FromString(
        (exchange.workdir / "ref" / f"{name}.lt").read_bytes()
    )
    ours = TypeEngine.to_literal_type(case.type)
    assert _structure_normalised(ours) == _structure_normalised(
        theirs
    ), f"ours:\n{ours}\ntheirs:\n{theirs}"


_DOTTED_TAG = re.compile(r'tag: "([A-Za-z_]\w*)\.(?:[\w.]+\.)?([A-Za-z_]\w*)"')


def _structure_normalised(lt: types_pb2.LiteralType) -> str:
    """The literal type as text, with dotted `structure.tag`s reduced to `<package>.<Class>`.

    Both SDKs tag a DataFrame type with its class's `__module__`, which is `pandas.core.frame`
    under pandas 2 and `pandas` under pandas 3, so the tag says which pandas each side has
    installed, not how the type is encoded.
    """
    return _DOTTED_TAG.sub(r'tag: "\1.\2"', text_format.MessageToString(lt))


@pytest.mark.parametrize("name", CASE_NAMES)
def test_same_literal_bytes(exchange: Exchange, name: str) -> None:
    case = _case(exchange, name)
    _ref_status(exchange.ref_encoded, name)
    if not case.same_bytes:
        pytest.skip("the encoding is not deterministic (random upload path)")
    theirs = (exchange.workdir / "ref" / f"{name}.lit").read_bytes()
    ours = exchange.ours[name]
    assert ours == theirs, (
        f"ours:   {literals_pb2.Literal.FromString(ours)}\n"
        f"theirs: {literals_pb2.Literal.FromString(theirs)}"
    )


@pytest.mark.parametrize("name", sorted(corpus.FUNCTIONS))
def test_interface_and_defaults_match(exchange: Exchange, name: str) -> None:
    assert exchange.ref_encoded["functions"][name] == "ok", exchange.ref_encoded["functions"][name]
    fn, _, _ = corpus.FUNCTIONS[name]
    ni = NativeInterface.from_callable(fn)
    ref = exchange.workdir / "ref"
    theirs = interface_pb2.TypedInterface.FromString((ref / f"{name}.iface").read_bytes())
    assert translate_interface(ni) == theirs
    spec = task_definition_pb2.TaskSpec.FromString((ref / f"{name}.defaults").read_bytes())
    ours = asyncio.run(translate_default_inputs(ni))
    assert list(ours) == list(spec.default_inputs)


@pytest.mark.parametrize("name", sorted(corpus.FUNCTIONS))
def test_inputs_and_outputs_both_ways(exchange: Exchange, name: str) -> None:
    fn, kwargs, ret = corpus.FUNCTIONS[name]
    ni = NativeInterface.from_callable(fn)
    ref = exchange.workdir / "ref"
    got = asyncio.run(read_inputs(ref / f"{name}.inputs.pb", ni))
    import inspect

    want = {
        p: kwargs.get(p, param.default)
        for p, param in inspect.signature(fn).parameters.items()
        if p in kwargs or param.default is not inspect.Parameter.empty
    }
    assert got == want
    assert asyncio.run(read_outputs(ref / f"{name}.outputs.pb", ni)) == ret
    status = exchange.ref_decoded["functions"][name]
    assert status == "ok", f"the reference could not read our inputs/outputs of {name}: {status}"
    ours_in = common_pb2.Inputs.FromString(
        (exchange.workdir / "ours" / f"{name}.inputs.pb").read_bytes()
    )
    theirs_in = common_pb2.Inputs.FromString((ref / f"{name}.inputs.pb").read_bytes())
    assert ours_in == theirs_in
    ours_out = common_pb2.Outputs.FromString(
        (exchange.workdir / "ours" / f"{name}.outputs.pb").read_bytes()
    )
    theirs_out = common_pb2.Outputs.FromString((ref / f"{name}.outputs.pb").read_bytes())
    assert ours_out == theirs_out
