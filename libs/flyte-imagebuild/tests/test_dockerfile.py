"""Dockerfile generation and content-hash tags (no Docker needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flyte_imagebuild import BuildFailedError, dockerfile, render
from flyte_imagebuild._checkers import docker_credentials, split_reference
from flyte_imagebuild._dockerfile import ignored
from flyte_models import Image, Secret
from flyte_models._image import PythonWheels
from flyte_models.errors import ImageBuildError

BASE = "registry.example/python:3.11"


def spec() -> Image:
    return Image.from_base(BASE).clone(name="app", registry="reg.example:5000", extendable=True)


def steps(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("# layer ")]


def test_one_step_per_with_call_in_call_order() -> None:
    image = (
        spec()
        .with_apt_packages("git", "curl")
        .with_pip_packages("six==1.16.0", "attrs")
        .with_env_vars({"A": "1", "B": "two words"})
        .with_workdir("/app")
        .with_commands(["echo one", "echo two"])
    )
    text = dockerfile(image)
    assert steps(text) == [
        "# layer 0: AptPackages",
        "# layer 1: PipPackages",
        "# layer 2: Env",
        "# layer 3: WorkDir",
        "# layer 4: Commands",
    ]
    assert f"FROM {BASE}\n" in text
    assert "apt-get install -y --no-install-recommends git curl" in text
    assert 'uv pip install --python "$UV_PYTHON" six==1.16.0 attrs' in text
    assert 'ENV A="1" B="two words"' in text
    assert "WORKDIR /app" in text
    assert "RUN echo one && \\\n    echo two" in text
    assert "--mount=type=cache,target=/root/.cache/uv" in text
    assert f'LABEL org.flyte.image.identifier="{image.identifier}"' in text


def test_same_spec_same_dockerfile_and_tag_changed_layer_new_tag(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("six==1.16.0\n")
    a = spec().with_requirements(req).with_pip_packages("attrs")
    b = spec().with_requirements(req).with_pip_packages("attrs")
    assert a.uri == b.uri and dockerfile(a) == dockerfile(b)
    assert a.uri.startswith("reg.example:5000/app:") and len(a.uri.rsplit(":", 1)[1]) == 32
    first = a.uri
    req.write_text("six==1.17.0\n")  # a file a layer copies changed (tags follow file contents)
    c = spec().with_requirements(req).with_pip_packages("attrs")
    assert c.uri != first
    d = spec().with_requirements(req).with_pip_packages("attrs==23.1.0")
    assert d.uri != c.uri


def test_context_holds_copied_files_and_honours_dockerignore(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "pkg" / "mod.py").write_text("x = 1\n")
    (src / "notes.log").write_text("noise\n")
    (src / "data").mkdir()
    (src / "data" / "big.bin").write_bytes(b"0" * 10)
    ignore = tmp_path / ".dockerignore"
    ignore.write_text("*.log\ndata\n")
    image = spec().with_dockerignore(ignore).with_source_folder(src, "/app/src")
    plan = render(image)
    ctx = tmp_path / "ctx"
    plan.write_context(ctx)
    copied = sorted(p.relative_to(ctx).as_posix() for p in ctx.rglob("*") if p.is_file())
    assert copied == ["Dockerfile", "_flyte/1/tree/pkg/mod.py"]
    assert "COPY _flyte/1/tree/ /app/src/" in plan.dockerfile


def test_dockerignore_patterns() -> None:
    assert ignored("a/b.pyc", [])
    assert ignored("build/x.txt", ["build"])
    assert not ignored("src/build.py", ["build"])
    assert ignored("deep/x/y.log", ["**/*.log"])
    assert not ignored("keep.log", ["*.log", "!keep.log"])


def test_secret_mounts_export_env_and_classic_refuses_them() -> None:
    image = spec().with_pip_packages(
        "private-pkg", secret_mounts=[Secret(key="pypi-token", as_env_var="TOKEN")]
    )
    plan = render(image)
    assert (
        "--mount=type=secret,id=pypi-token,target=/run/secrets/pypi-token,required=true"
        in plan.dockerfile
    )
    assert 'export TOKEN="$(cat /run/secrets/pypi-token)" && uv pip install' in plan.dockerfile
    assert [s.id for s in plan.secrets] == ["pypi-token"]
    with pytest.raises(ImageBuildError, match="BuildKit"):
        render(image, buildkit=False)


def test_classic_mode_copies_instead_of_bind_mounts(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("six\n")
    text = dockerfile(spec().with_requirements(req), buildkit=False)
    assert "--mount" not in text
    assert "COPY _flyte/0/requirements.txt /tmp/flyte/0/requirements.txt" in text


def test_local_wheels_layer_installs_only_the_named_package(tmp_path: Path) -> None:
    (tmp_path / "flyte_runtime-1-py3-none-any.whl").write_bytes(b"PK")
    (tmp_path / "flyte_cli-1-py3-none-any.whl").write_bytes(b"PK")
    image = spec().clone(addl_layer=PythonWheels(wheel_dir=tmp_path, package_name="flyte-runtime"))
    plan = render(image)
    assert "--find-links /tmp/flyte/0/wheels flyte-runtime" in plan.dockerfile
    assert sorted(rel for _, rel, _ in plan.copies) == [
        "_flyte/0/wheels/flyte_cli-1-py3-none-any.whl",
        "_flyte/0/wheels/flyte_runtime-1-py3-none-any.whl",
    ]


def test_uv_script_dependencies(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text('# /// script\n# dependencies = ["six>=1", "attrs"]\n# ///\nprint(1)\n')
    text = dockerfile(Image.from_uv_script(script, name="job", registry="r.example"))
    assert "uv pip install --python \"$UV_PYTHON\" 'six>=1' attrs" in text


def test_base_image_override_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_DEFAULT_BASE_IMAGE", "mirror.local/py:{python_version}")
    monkeypatch.setenv("FLYTE_UV_IMAGE", "mirror.local/uv:1")
    text = dockerfile(Image.from_debian_base(python_version=(3, 12), install_flyte=False))
    assert "FROM mirror.local/py:3.12\n" in text and "FROM mirror.local/uv:1 AS uv" in text
    assert "--python 3.12" in text


def test_bad_input_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ImageBuildError, match="no .whl files"):
        render(
            spec().clone(addl_layer=PythonWheels(wheel_dir=tmp_path, package_name="flyte-runtime"))
        )
    with pytest.raises(ImageBuildError, match="does not exist"):
        render(spec().with_dockerignore(tmp_path / "missing.dockerignore"))
    with pytest.raises(ImageBuildError, match="pixi"):
        manifest = tmp_path / "pixi.toml"
        manifest.write_text("[workspace]\n")
        render(spec().with_pixi_project(manifest))
    err = BuildFailedError("it broke", ["line 1", "line 2"])
    assert isinstance(err, ImageBuildError) and err.log_tail == ["line 1", "line 2"]
    assert "line 2" in str(err)


def test_split_reference_and_docker_config_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert split_reference("127.0.0.1:5000/a/b:t") == ("127.0.0.1:5000", "a/b", "t")
    assert split_reference("ghcr.io/org/img") == ("ghcr.io", "org/img", "latest")
    assert split_reference("python:3.11") == ("registry-1.docker.io", "library/python", "3.11")
    (tmp_path / "config.json").write_text('{"auths": {"reg.example": {"auth": "dTpw"}}}')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert docker_credentials("reg.example") == ("u", "p")
    assert docker_credentials("other.example") is None
