"""`import flyte_storage` stays cheap: no cloud SDK (nor fsspec/httpx) until a path needs one (C7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

HEAVY = ("s3fs", "gcsfs", "adlfs", "botocore", "aiobotocore", "boto3", "azure", "google")


def _modules_after(code: str) -> set[str]:
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import json, sys
        print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
        """
    )
    # Hand our sys.path down: under Pants the test runs from a PEX whose paths a bare
    # interpreter would not see.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, env=env
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_loads_no_cloud_sdk() -> None:
    loaded = _modules_after("import flyte_storage, flyte_storage.errors")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    # Stronger than required: the transfer libraries are deferred too.
    assert "fsspec" not in loaded and "httpx" not in loaded


def test_local_paths_load_no_cloud_sdk() -> None:
    loaded = _modules_after(
        """
        import flyte_storage, os
        p = flyte_storage.put_stream_sync(b"x", flyte_storage.get_random_local_path("a.txt"))
        assert flyte_storage.exists_sync(p) and flyte_storage.size_sync(p) == 1
        flyte_storage.get_sync(p)
        flyte_storage.rm_sync(p)
        try:
            flyte_storage.get_sync(p)
        except flyte_storage.errors.ObjectNotFound:
            pass
        """
    )
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_a_cloud_path_loads_only_its_backend() -> None:
    loaded = _modules_after(
        """
        import flyte_storage
        flyte_storage.configure(flyte_storage.S3(endpoint="http://127.0.0.1:9", anonymous=True))
        flyte_storage.get_filesystem("s3://bucket/key")
        """
    )
    assert "s3fs" in loaded
    assert not loaded & {"gcsfs", "adlfs", "azure", "google"}
