"""A task whose image was built by flyte-imagebuild runs in that image on a devbox.

The devbox runs actions as processes; its per-image command table (`image_a0_commands`) lets a
command stand in for `a0`. Here that command is `docker run ... <image> a0`, so the action runs
inside the image built from the task environment's `Image` spec (the runtime from this source
tree, its third-party closure from PyPI), reaching the devbox over the host network and its
blob store through a bind mount of the devbox's state directory.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import flyte
import flyte_runtime._entrypoint  # noqa: F401 - the runtime the image runs (a Pants dependency)
from flyte_devbox import Devbox, DevboxConfig
from flyte_imagebuild import DockerImageBuilder
from flyte_models import Image

from .conftest import Docker

ROOT = Path(__file__).resolve().parents[2]
LIBS = ("flyte-models", "flyte-storage", "flyte-types", "flyte-client", "flyte-runtime")
# The runtime's third-party closure, pinned to the versions of the development environment.
DEPS = (
    "flyteidl2==2.0.51",
    "protobuf==7.36.2",
    "pydantic==2.14.4",
    "typing_extensions==4.16.0",
    "msgpack==1.2.4",
    "cloudpickle==3.1.3",
    "fsspec==2026.9.0",
    "httpx==0.28.1",
    "croniter==7.0.0",
    "aiofiles==25.1.0",
    "grpcio==1.85.3",
    "pyyaml==6.0.4",
)
# Run by the devbox in place of `a0`: docker run with the action's environment passed through.
WRAPPER = r"""
import os, sys
image, state = sys.argv[1], sys.argv[2]
skip = {"PATH", "HOME", "HOSTNAME", "PWD", "OLDPWD", "SHLVL", "_", "PYTHONPATH", "VIRTUAL_ENV",
        "PYTHONHOME", "TMPDIR", "LANG", "TERM"}
names = [n for n in os.environ if n not in skip and not n.startswith("DOCKER_")]
argv = ["docker", "run", "--rm", "--network", "host", "-v", f"{state}:{state}",
        "-v", f"{os.getcwd()}:{os.getcwd()}", "-w", os.getcwd()]
for n in names:
    argv += ["-e", n]
# the runtime is on PYTHONPATH (from source), so no `a0` script: run its module
os.execvp("docker", [*argv, image, "python", "-m", "flyte_runtime._entrypoint", *sys.argv[3:]])
"""
TASKS = """
import os, sys
import flyte

env = flyte.TaskEnvironment(name="in_container", image=IMAGE)


@env.task
async def where(x: int) -> str:
    return f"{os.path.exists('/.dockerenv')}|{sys.prefix}|{x * 2}"
"""


def worker_image(docker: Docker, snapshot: Path) -> Image:
    image = Image.from_base(docker.base).clone(
        name="it-devbox-worker", registry=docker.registry, extendable=True
    )
    image = image.with_pip_packages(*DEPS)
    for lib in LIBS:
        # A snapshot: the tag digests the files, and the work tree may change during the build.
        shutil.copytree(
            ROOT / "libs" / lib / "src",
            snapshot / lib,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        )
        image = image.with_source_folder(snapshot / lib, f"/opt/flyte-src/{lib}")
    return image.with_env_vars({"PYTHONPATH": ":".join(f"/opt/flyte-src/{lib}" for lib in LIBS)})


@pytest.fixture
def src_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "src"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    sys.modules.pop("in_container_tasks", None)


def test_task_runs_in_its_built_image_on_a_devbox(
    docker: Docker, tmp_path: Path, src_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = worker_image(docker, tmp_path / "snapshot")
    built = flyte.build(image, builder=DockerImageBuilder(progress=docker.progress.append))
    assert built.uri == image.uri

    wrapper = tmp_path / "docker_a0.py"
    wrapper.write_text(WRAPPER)
    state = tmp_path / "devbox"
    state.mkdir()
    config = DevboxConfig(
        port=0,
        state_dir=state,
        a0_command=(sys.executable, "-m", "flyte_runtime._entrypoint"),
        image_a0_commands={image.uri: (sys.executable, str(wrapper), image.uri, str(state))},
    )
    (src_root / "in_container_tasks.py").write_text(TASKS.replace("IMAGE", repr(image.uri)))
    importlib.invalidate_caches()
    mod = importlib.import_module("in_container_tasks")
    monkeypatch.setenv("FLYTE_DEVBOX_BUILD_IMAGES", "1")
    with Devbox(config) as box:
        flyte.init(
            endpoint=box.endpoint,
            insecure=True,
            project="flytesnacks",
            domain="development",
            root_dir=src_root,
        )
        try:
            run = flyte.run(mod.where, x=21)
            run.wait()
            out = run.outputs()[0]
        finally:
            flyte.init()
    assert out == "True|/opt/venv|42", out
