"""Importing flyte_cli stays cheap: it must not pull in the modules listed below (STYLE C7)."""

import json
import os
import subprocess
import sys

import flyte_cli  # the package under test; also tells Pants this test depends on it

BANNED = ["docker", "flyte_devbox", "flyte_imagebuild", "flyteidl2", "grpc"]

# Under Pants the sources reach sys.path through the test runner; hand the same path to the child.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_import_does_not_load_heavy_or_upper_layer_modules() -> None:
    code = (
        "import json, sys; import flyte_cli; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=ENV
    )
    loaded = set(json.loads(out.stdout))
    assert flyte_cli.__name__ in loaded
    assert not loaded & set(BANNED), f"import flyte_cli loaded {sorted(loaded & set(BANNED))}"


# `flyte --help` imports flyte_cli.main: click only, never the runtime, client, wire or rich.
MAIN_BANNED = [*BANNED, "flyte_runtime", "flyte_client", "flyte_types", "google", "rich"]


def test_cli_main_imports_only_click() -> None:
    code = (
        "import json, sys; import flyte_cli.main; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=ENV
    )
    loaded = set(json.loads(out.stdout))
    assert "click" in loaded
    assert not loaded & set(
        MAIN_BANNED
    ), f"flyte_cli.main loaded {sorted(loaded & set(MAIN_BANNED))}"


# Running `flyte --help` (which also reads the CLI plugins' entry points) must not import these:
# importlib.metadata alone costs ~45 ms, shutil ~3 ms (click's terminal size), logging ~4 ms.
HELP_BANNED = [*MAIN_BANNED, "importlib.metadata", "shutil", "logging", "email", "zipfile"]


def test_help_run_imports_no_metadata_machinery() -> None:
    code = (
        "import json, sys\nfrom flyte_cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=ENV
    )
    loaded = set(json.loads(out.stdout.splitlines()[-1]))
    assert "flyte_cli._plugins" in loaded  # plugins were looked for
    bad = {m for m in loaded if m in HELP_BANNED or m.split(".")[0] in MAIN_BANNED}
    assert not bad, f"flyte --help imported {sorted(bad)}"
