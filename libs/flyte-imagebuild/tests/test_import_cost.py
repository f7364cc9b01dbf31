"""Importing flyte_imagebuild stays cheap: it must not pull in the modules listed below (STYLE C7)."""

import json
import os
import subprocess
import sys

import flyte_imagebuild  # the package under test; also tells Pants this test depends on it

BANNED = ["click", "docker", "flyte_cli", "flyte_devbox", "rich"]

# Under Pants the sources reach sys.path through the test runner; hand the same path to the child.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_import_does_not_load_heavy_or_upper_layer_modules() -> None:
    code = (
        "import json, sys; import flyte_imagebuild; "
        "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=ENV
    )
    loaded = set(json.loads(out.stdout))
    assert flyte_imagebuild.__name__ in loaded
    assert not loaded & set(
        BANNED
    ), f"import flyte_imagebuild loaded {sorted(loaded & set(BANNED))}"
