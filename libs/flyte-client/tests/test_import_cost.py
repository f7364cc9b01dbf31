"""Importing flyte_client stays cheap: it must not pull in the modules listed below (STYLE C7)."""

import json
import os
import subprocess
import sys

import flyte_client  # the package under test; also tells Pants this test depends on it

BANNED = [
    "click",
    "docker",
    "flyte",
    "flyte_cli",
    "flyte_devbox",
    "flyte_imagebuild",
    "flyte_runtime",
    "rich",
]

# Under Pants the sources reach sys.path through the test runner; hand the same path to the child.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_import_does_not_load_heavy_or_upper_layer_modules() -> None:
    code = (
        "import json, sys; import flyte_client; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=ENV
    )
    loaded = set(json.loads(out.stdout))
    assert flyte_client.__name__ in loaded
    assert not loaded & set(BANNED), f"import flyte_client loaded {sorted(loaded & set(BANNED))}"


HEAVY = ["google", "grpc", "httpx", "keyring", "yaml"]


def test_import_and_config_types_do_not_load_grpc_or_auth_stacks() -> None:
    code = (
        "import json, sys; import flyte_client; flyte_client.PlatformConfig; "
        "flyte_client.Config; flyte_client.errors; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=ENV
    )
    loaded = set(json.loads(out.stdout))
    assert not loaded & set(HEAVY), f"flyte_client config loaded {sorted(loaded & set(HEAVY))}"
