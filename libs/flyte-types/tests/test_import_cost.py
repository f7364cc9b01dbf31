"""`import flyte_types` stays light: heavy optional libraries load only when a value needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

FORBIDDEN = ("pydantic", "pandas", "pyarrow", "cloudpickle", "fsspec", "mashumaro")


def _modules_after(code: str) -> set[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_import_flyte_types_is_light() -> None:
    roots = _roots(_modules_after("import flyte_types, flyte_types.errors, flyte_types.extend"))
    assert not roots & set(FORBIDDEN), roots & set(FORBIDDEN)


def test_scalars_dataclasses_and_containers_stay_light() -> None:
    code = (
        "import dataclasses\n"
        "from flyte_types import TypeEngine\n"
        "@dataclasses.dataclass\n"
        "class P:\n"
        "    x: int\n"
        "    y: list[str]\n"
        "for v, t in [(1, int), ([1.0], list[float]), ({'a': P(1, ['b'])}, dict[str, P]), (None, int | None)]:\n"
        "    assert TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(v, t), t) == v\n"
    )
    roots = _roots(_modules_after(code))
    assert not roots & set(FORBIDDEN), roots & set(FORBIDDEN)


def test_pydantic_loads_only_when_a_model_is_converted() -> None:
    code = (
        "import sys\n"
        "from flyte_types import TypeEngine\n"
        "TypeEngine.to_literal_sync((1, 'a'), tuple[int, str])\n"
    )
    roots = _roots(_modules_after(code))
    assert "pydantic" in roots
    assert not roots & {"pandas", "pyarrow", "cloudpickle"}


def test_io_imports_pydantic_but_not_dataframe_libraries() -> None:
    roots = _roots(_modules_after("import flyte_types.io, flyte_types.io.extend"))
    assert "pydantic" in roots
    assert not roots & {"pandas", "pyarrow", "cloudpickle", "fsspec"}
