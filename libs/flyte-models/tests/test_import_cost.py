"""`import flyte_models` loads the standard library only (STYLE C7), checked in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import flyte_models

_SRC = str(Path(flyte_models.__file__).resolve().parent.parent)

_PROBE = """
import json, sys
before = set(sys.modules)
import flyte_models
import flyte_models.errors
after = set(sys.modules) - before
print(json.dumps(sorted(after)))
"""


def _modules_loaded_by(code: str) -> list[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([_SRC, env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_loads_only_the_standard_library() -> None:
    loaded = _modules_loaded_by(_PROBE)
    third_party = sorted(
        {
            name.split(".")[0]
            for name in loaded
            if name.split(".")[0] not in sys.stdlib_module_names
            and name.split(".")[0] != "flyte_models"
        }
    )
    assert third_party == []


def test_heavy_or_optional_dependencies_stay_unloaded() -> None:
    loaded = set(_modules_loaded_by(_PROBE))
    for forbidden in ("croniter", "google", "grpc", "pydantic", "fsspec", "kubernetes", "zoneinfo"):
        assert not any(m == forbidden or m.startswith(forbidden + ".") for m in loaded), forbidden


def test_cron_validation_imports_croniter_lazily() -> None:
    code = _PROBE.replace(
        "after = set(sys.modules) - before",
        "flyte_models.Cron('0 * * * *')\nafter = set(sys.modules) - before",
    )
    assert "croniter" in _modules_loaded_by(code)


def test_defining_tasks_does_not_import_asyncio() -> None:
    # asyncio (with ssl) costs tens of milliseconds: `import flyte` in a task file, and the CLI
    # reading that file to build `flyte run FILE TASK --help`, must not pay for it.
    code = """
import json, sys
import flyte_models
env = flyte_models.TaskEnvironment(name="probe")

@env.task
async def double(x: int) -> int:
    return 2 * x

@env.task
def triple(x: int) -> int:
    return 3 * x

print(json.dumps(sorted(sys.modules)))
"""
    loaded = set(_modules_loaded_by(code))
    assert "asyncio" not in loaded
