"""`import flyte` (the facade shipped by flyte-runtime) must stay lazy and CLI-free."""

import json
import os
import subprocess
import sys

import flyte  # the package under test; also tells Pants this test depends on it

BANNED = ["click", "docker", "flyte_cli", "flyte_devbox", "flyte_imagebuild", "rich"]

# Under Pants the sources reach sys.path through the test runner; hand the same path to the child.
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def test_import_flyte_is_lazy_and_cli_free() -> None:
    code = (
        "import json, sys, flyte; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=ENV
    )
    loaded = set(json.loads(out.stdout))
    assert flyte.__name__ in loaded
    assert not loaded & set(BANNED), f"import flyte loaded {sorted(loaded & set(BANNED))}"
