"""Image builds with the real Docker daemon, BuildKit and a local OCI registry (see conftest)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time
from pathlib import Path

import pytest

import flyte
from flyte_imagebuild import (
    BuildFailedError,
    DockerImageBuilder,
    PodmanImageBuilder,
    RegistryChecker,
)
from flyte_imagebuild._checkers import DockerLocalChecker
from flyte_models import Image, Secret
from flyte_models.errors import ImageBuildError
from flyte_runtime import _images

from .conftest import Docker


def image_on(docker: Docker, name: str, registry: str | None = None) -> Image:
    return Image.from_base(docker.base).clone(
        name=name, registry=registry or docker.registry, extendable=True
    )


def builder(docker: Docker, **kw: object) -> DockerImageBuilder:
    return DockerImageBuilder(progress=docker.progress.append, **kw)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_build_push_check_exists_then_rebuild_is_skipped(docker: Docker) -> None:
    token = docker.unique()
    image = (
        image_on(docker, "it-basic")
        .with_pip_packages("six==1.16.0")
        .with_commands([f"echo {token} > /token"])
    )
    b = builder(docker)
    checker = RegistryChecker()
    assert not asyncio.run(checker.image_exists(image, image.uri))

    result = flyte.build(image, builder=b)
    assert result.uri == image.uri and not result.skipped
    assert any("built " + image.uri in line for line in docker.progress)
    # pushed to the registry and present in the daemon's store
    assert asyncio.run(checker.image_exists(image, image.uri))
    assert asyncio.run(DockerLocalChecker().image_exists(image, image.uri))
    out = docker.run(
        "run",
        "--rm",
        "--network",
        "none",
        image.uri,
        "sh",
        "-c",
        "cat /token && python -c 'import six; print(six.__version__)'",
    )
    assert out.stdout.split() == [token, "1.16.0"]

    # a new process (no remembered result) finds the tag and builds nothing
    _images.clear_build_cache()
    docker.progress.clear()
    t0 = time.monotonic()
    again = flyte.build(image, builder=b)
    assert again.skipped and again.uri == image.uri
    assert not any(line.startswith("building") for line in docker.progress)
    assert time.monotonic() - t0 < 10


def test_changed_layer_builds_a_new_tag_reusing_cached_steps(docker: Docker) -> None:
    token = docker.unique()
    first = image_on(docker, "it-change").with_commands([f"echo {token} > /a"])
    second = first.with_env_vars({"CHANGED": token})
    assert first.uri != second.uri
    b = builder(docker)
    assert not flyte.build(first, builder=b).skipped
    docker.progress.clear()
    result = flyte.build(second, builder=b)
    assert not result.skipped and result.uri == second.uri
    assert any("CACHED" in line for line in docker.progress), "unchanged steps were rebuilt"
    out = docker.run(
        "run", "--rm", "--network", "none", second.uri, "sh", "-c", "cat /a; echo $CHANGED"
    )
    assert out.stdout.split() == [token, token]


def test_failing_run_raises_with_the_builders_last_lines(docker: Docker) -> None:
    marker = f"boom-{docker.unique()}"
    image = image_on(docker, "it-fail").with_commands([f"echo {marker} >&2 && exit 3"])
    with pytest.raises(BuildFailedError) as info:
        flyte.build(image, builder=builder(docker))
    err = info.value
    assert isinstance(err, ImageBuildError)
    assert any(marker in line for line in err.log_tail), err.log_tail
    assert marker in str(err) and f"building {image.uri} failed" in str(err)
    assert "exited with code 3" in str(err)
    assert not docker.has_local(image.uri)


def test_unreachable_registry_raises_with_a_clear_message(docker: Docker) -> None:
    dead = f"127.0.0.1:{free_port()}"
    image = image_on(docker, "it-noreg", registry=dead).with_commands([f"echo {docker.unique()}"])
    with pytest.raises(BuildFailedError) as info:
        flyte.build(image, builder=builder(docker))
    assert "unreachable" in str(info.value) and dead in str(info.value)
    assert info.value.log_tail


def test_unknown_base_image_raises(docker: Docker) -> None:
    missing = f"{docker.registry}/does-not/exist:{docker.unique()}"
    image = Image.from_base(missing).clone(
        name="it-nobase", registry=docker.registry, extendable=True
    )
    image = image.with_commands(["true"])
    with pytest.raises(BuildFailedError) as info:
        flyte.build(image, builder=builder(docker))
    assert "base image" in str(info.value) and missing in str(info.value)


def test_dry_run_returns_the_dockerfile_and_builds_nothing(docker: Docker) -> None:
    image = image_on(docker, "it-dry").with_commands([f"echo {docker.unique()}"])
    result = flyte.build(image, dry_run=True, builder=builder(docker))
    assert result.dockerfile and f"FROM {docker.base}" in result.dockerfile
    assert any("dry run" in line for line in docker.progress)
    assert not docker.has_local(image.uri)


def test_secret_mount_and_build_arg(
    docker: Docker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    value = docker.unique()
    monkeypatch.setenv("IT_TOKEN", value)
    image = image_on(docker, "it-secret").with_commands(
        [f'[ "$IT_TOKEN" = "{value}" ] && [ "$GREETING" = hello ] && echo ok > /checked'],
        secret_mounts=[Secret(key="it-token")],
    )
    result = flyte.build(image, builder=builder(docker, build_args={"GREETING": "hello"}))
    assert not result.skipped
    out = docker.run("run", "--rm", "--network", "none", image.uri, "sh", "-c", "cat /checked; env")
    assert out.stdout.startswith("ok") and value not in out.stdout  # the secret is not in the image
    # a secret without a value is named, with the fix
    monkeypatch.delenv("IT_TOKEN")
    with pytest.raises(ImageBuildError, match="IT_TOKEN"):
        flyte.build(image.with_env_vars({"X": "1"}), builder=builder(docker))


def test_image_built_without_push_is_pushed_not_rebuilt(docker: Docker) -> None:
    image = image_on(docker, "it-localonly").with_commands([f"echo {docker.unique()}"])
    flyte.build(image, builder=builder(docker, push=False))
    assert docker.has_local(image.uri)
    assert not asyncio.run(RegistryChecker().image_exists(image, image.uri))
    _images.clear_build_cache()
    docker.progress.clear()
    result = flyte.build(image, builder=builder(docker))
    assert result.skipped
    assert asyncio.run(RegistryChecker().image_exists(image, image.uri))
    assert any("exists locally; pushing it" in line for line in docker.progress)


def test_default_builder_comes_from_the_registry(docker: Docker) -> None:
    assert {"local", "local-podman", "remote"} <= set(_images.available_image_builders()) | {
        n for n in ("local", "local-podman", "remote") if _images.get_image_builder(n)
    }
    image = image_on(docker, "it-facade").with_commands([f"echo {docker.unique()}"])
    uri = asyncio.run(_images.resolve_image_uri(image))
    assert uri == image.uri
    assert asyncio.run(RegistryChecker().image_exists(image, uri))


@pytest.mark.skipif(
    shutil.which("podman") is None, reason="podman is not installed here (apt-get install podman)"
)
def test_podman_builds_pushes_and_skips_rebuild(docker: Docker, tmp_path: Path) -> None:
    import subprocess

    # podman has its own image store: give it the locally made base and uv images.
    uv_image = docker.env["FLYTE_UV_IMAGE"]
    for ref in (docker.base, uv_image):
        if subprocess.run(["podman", "image", "exists", ref]).returncode != 0:
            save = subprocess.Popen(["docker", "save", ref], stdout=subprocess.PIPE)
            subprocess.run(["podman", "load"], stdin=save.stdout, check=True, capture_output=True)
            assert save.wait() == 0
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.16.0\n")  # a bind-mounted file (relative to the context)
    token = docker.unique()
    image = (
        image_on(docker, "it-podman").with_requirements(req).with_commands([f"echo {token} > /t"])
    )
    b = PodmanImageBuilder(progress=docker.progress.append, network="host")
    result = flyte.build(image, builder=b)
    assert result.uri == image.uri and not result.skipped
    assert asyncio.run(RegistryChecker().image_exists(image, image.uri))
    out = subprocess.run(
        [
            "podman",
            "run",
            "--rm",
            # podman's default rlimits exceed this machine's hard limits (runc refuses them)
            "--ulimit=nofile=1024:1024",
            "--ulimit=nproc=1024:1024",
            "--network",
            "none",
            image.uri,
            "sh",
            "-c",
            "cat /t; python -c 'import six; print(six.__version__)'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split() == [token, "1.16.0"]
    _images.clear_build_cache()
    assert flyte.build(image, builder=b).skipped
