"""The declarative Image spec: constructors, layers, immutability and the content identifier."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

import flyte_models
from flyte_models import (
    AptPackages,
    Architecture,
    CodeBundleLayer,
    Commands,
    CopyConfig,
    DockerIgnore,
    Env,
    Image,
    Layer,
    PipOption,
    PipPackages,
    PixiProject,
    PixiScript,
    PoetryProject,
    PythonWheels,
    Requirements,
    Secret,
    UVProject,
    UVScript,
    WorkDir,
)
from flyte_models.errors import ImageBuildError

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def named(uri: str = "python:3.12-slim") -> Image:
    return Image.from_base(uri).clone(name="img", registry="reg.example.com", extendable=True)


def test_direct_construction_is_refused() -> None:
    with pytest.raises(TypeError, match="Image cannot be instantiated directly"):
        Image()


def test_from_base_is_used_as_is_and_not_extendable() -> None:
    img = Image.from_base("ghcr.io/acme/app:1.0")
    assert img.uri == "ghcr.io/acme/app:1.0" and not img.is_cloned and not img.extendable
    with pytest.raises(ValueError, match="Image.extendable is False"):
        img.with_pip_packages("x")
    with pytest.raises(ValueError, match="image_uri must be a non-empty image URI, got ''"):
        Image.from_base("")


def test_with_methods_return_new_images_and_keep_the_original() -> None:
    base = named()
    more = base.with_pip_packages("pandas>=2", "numpy", index_url="https://pi", pre=True)
    assert base.layers == () and len(more.layers) == 1
    layer = more.layers[0]
    assert isinstance(layer, PipPackages) and isinstance(layer, PipOption)
    assert layer.packages == ("pandas>=2", "numpy")
    assert layer.get_pip_install_args() == ["--index-url https://pi", "--pre"]
    with pytest.raises(AttributeError):
        more.name = "other"  # type: ignore[misc]
    assert more.uri.startswith("reg.example.com/img:") and len(more.uri.split(":")[-1]) == 32


def test_every_with_method_appends_one_typed_layer(tmp_path: Path, wheels_dir: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("requests\n")
    (tmp_path / "proj").mkdir()
    pyproject = tmp_path / "proj" / "pyproject.toml"
    pyproject.write_text("[project]\nname='p'\n")
    (tmp_path / "proj" / "uv.lock").write_text("lock")
    src_file = tmp_path / "a.py"
    src_file.write_text("print(1)")
    img = (
        named()
        .with_apt_packages("git", "curl", secret_mounts=["APT"])
        .with_commands(["echo hi", "echo there"])
        .with_env_vars({"A": "1"})
        .with_workdir("/app")
        .with_requirements(req, extra_index_urls="https://extra")
        .with_uv_project(pyproject)
        .with_poetry_project(pyproject, extra_args="--no-root")
        .with_pixi_project(tmp_path / "proj")
        .with_source_file(src_file)
        .with_source_folder(tmp_path / "proj")
        .with_code_bundle(copy_style="all")
        .with_dockerignore(tmp_path / ".dockerignore")
        .with_local_v2()
        .with_local_v2_plugins("flyteplugins-ray")
        .with_local_rs_controller()
    )
    kinds = [type(layer) for layer in img.layers]
    assert kinds == [
        AptPackages,
        Commands,
        Env,
        WorkDir,
        Requirements,
        UVProject,
        PoetryProject,
        PixiProject,
        CopyConfig,
        CopyConfig,
        CodeBundleLayer,
        DockerIgnore,
        PythonWheels,
        PythonWheels,
        PythonWheels,
    ]
    layers = img.layers
    assert isinstance(layers[0], AptPackages) and layers[0].secret_mounts == ("APT",)
    assert isinstance(layers[1], Commands) and layers[1].commands == ("echo hi", "echo there")
    assert isinstance(layers[2], Env) and layers[2].env_vars == (("A", "1"),)
    assert isinstance(layers[4], Requirements) and layers[4].extra_index_urls == ("https://extra",)
    assert isinstance(layers[5], UVProject) and layers[5].uvlock == tmp_path / "proj" / "uv.lock"
    assert (
        isinstance(layers[6], PoetryProject)
        and layers[6].poetry_lock == tmp_path / "proj" / "poetry.lock"
    )
    assert isinstance(layers[7], PixiProject) and layers[7].manifest == pyproject
    assert (
        isinstance(layers[9], CopyConfig) and layers[9].dst == "./proj" and layers[9].path_type == 1
    )
    assert isinstance(layers[12], PythonWheels) and layers[12].package_name == "flyte-runtime"
    assert layers[12].wheel_dir_name == "dist"
    assert isinstance(layers[13], PythonWheels) and layers[13].package_name == "flyteplugins_ray"
    assert (
        isinstance(layers[14], PythonWheels) and layers[14].package_name == "flyte_controller_base"
    )
    assert all(isinstance(layer, Layer) for layer in img.layers)
    assert len(img.identifier) == 64


def test_source_helpers(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "sub" / "a.txt"
    b.parent.mkdir()
    a.write_text("1")
    b.write_text("2")
    img = named().with_source_file([a, tmp_path / "c.txt"], dst="/data")
    assert [layer.dst for layer in img.layers if isinstance(layer, CopyConfig)] == [
        "/data",
        "/data",
    ]
    with pytest.raises(ValueError, match="several files named \\['a.txt'\\]"):
        named().with_source_file([a, b])
    contents = named().with_source_folder(tmp_path, dst="/dst", copy_contents_only=True).layers[0]
    assert isinstance(contents, CopyConfig) and contents.dst == "/dst"
    assert named().with_source_folder(tmp_path, copy_contents_only=True).layers[0].dst == "."  # type: ignore[attr-defined]


def test_from_debian_base_builds_a_spec_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    img = Image.from_debian_base(python_version=(3, 12))
    assert img.base_image == "python:3.12-slim-bookworm"
    assert img.platform == ("linux/amd64", "linux/arm64") and img.extendable and img.name == "flyte"
    kinds = [type(layer) for layer in img.layers]
    assert kinds == [Commands, WorkDir, Env, AptPackages, PipPackages]
    last = img.layers[-1]
    assert isinstance(last, PipPackages) and last.packages == ("flyte-runtime",)
    assert img.uri.startswith("flyte:")
    monkeypatch.setenv("FLYTE_DEFAULT_BASE_IMAGE", "mirror.local/python:{python_version}-slim")
    monkeypatch.setenv("FLYTE_IMAGE_REGISTRY", "push.local")
    mirrored = Image.from_debian_base(python_version=(3, 11), install_flyte=False)
    assert mirrored.base_image == "mirror.local/python:3.11-slim"
    assert mirrored.registry == "push.local"
    assert not any(isinstance(layer, PipPackages | PythonWheels) for layer in mirrored.layers)
    assert mirrored.uri.startswith("push.local/flyte:")


def test_from_debian_base_uses_local_wheels_when_present(wheels_dir: Path) -> None:
    img = Image.from_debian_base()
    last = img.layers[-1]
    assert isinstance(last, PythonWheels) and last.wheel_dir == wheels_dir
    assert img.python_version == (sys.version_info.major, sys.version_info.minor)


def test_from_debian_base_released_version_is_the_prebuilt_image(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    img = Image.from_debian_base(python_version=(3, 12), flyte_version="2.12.1")
    assert img.uri == "ghcr.io/flyteorg/flyte:py3.12-v2.12.1" and img.layers == ()
    monkeypatch.setenv("FLYTE_DEFAULT_IMAGE_REGISTRY", "registry.local/flyteorg")
    assert (
        Image.from_debian_base(flyte_version="v2.0.0").uri
        == f"registry.local/flyteorg/flyte:py{PY}-v2.0.0"
    )
    extended = img.with_pip_packages("x")
    assert extended.base_image == "ghcr.io/flyteorg/flyte:py3.12-v2.12.1" and extended.is_cloned


def test_from_debian_base_registry_name_secret_and_platform() -> None:
    img = Image.from_debian_base(
        registry="ghcr.io/me",
        name="custom",
        registry_secret="pull-secret",
        platform=("linux/arm64",),
    )
    assert (img.registry, img.name, img.platform) == ("ghcr.io/me", "custom", ("linux/arm64",))
    assert img.registry_secret == Secret(key="pull-secret")
    assert img.uri.startswith("ghcr.io/me/custom:")
    platforms: tuple[Architecture, ...] = get_args(Architecture)
    assert platforms == ("linux/amd64", "linux/arm64")
    with pytest.raises(
        ValueError, match="platform must be 'linux/amd64' or 'linux/arm64' .* got \\('windows',\\)"
    ):
        Image.from_debian_base(platform=("windows",))  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="python_version must be a \\(major, minor\\) tuple of ints, got \\(3,\\)"
    ):
        Image.from_debian_base(python_version=(3,))  # type: ignore[arg-type]


def test_from_dockerfile(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    img = Image.from_dockerfile(dockerfile, registry="reg", name="df", platform="linux/arm64")
    assert img.dockerfile == dockerfile and img.platform == ("linux/arm64",) and img.is_cloned
    first = img.identifier
    assert img.uri == f"reg/df:{first[:32]}"
    dockerfile.write_text("FROM busybox\n")
    assert img.identifier != first
    with pytest.raises(ValueError, match="Image.extendable is False"):
        img.with_apt_packages("git")
    with pytest.raises(ValueError, match="Image.dockerfile is"):
        img.clone(extendable=True).with_apt_packages("git")


def test_from_uv_script_hashes_only_the_metadata_block(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text('# /// script\n# dependencies = ["httpx"]\n# ///\nprint("v1")\n')
    img = Image.from_uv_script(
        script, name="job", registry="reg", python_version=(3, 12), extra_index_urls=["x"]
    )
    layer = img.layers[-1]
    assert (
        isinstance(layer, UVScript)
        and layer.script_name == "job.py"
        and layer.extra_index_urls == ("x",)
    )
    assert img.python_version == (3, 12) and img.name == "job"
    assert not any(isinstance(layer, PipPackages) for layer in img.layers)
    before = img.identifier
    script.write_text('# /// script\n# dependencies = ["httpx"]\n# ///\nprint("v2")\n')
    assert img.identifier == before
    script.write_text('# /// script\n# dependencies = ["httpx", "rich"]\n# ///\nprint("v2")\n')
    assert img.identifier != before
    img.validate()
    bad = Image.from_uv_script(tmp_path / "missing.py", name="j")
    with pytest.raises(FileNotFoundError, match="UVScript.script"):
        bad.validate()


def test_from_pixi_script(tmp_path: Path) -> None:
    script = tmp_path / "job.py"
    script.write_text("# /// script\n# dependencies = ['flyte']\n# ///\n")
    img = Image.from_pixi_script(
        script, name="pix", platform=("linux/amd64", "linux/arm64"), environment="gpu"
    )
    layer = img.layers[-1]
    assert isinstance(layer, PixiScript)
    assert layer.platforms == ("linux-64", "linux-aarch64") and layer.environment == "gpu"
    assert layer.script_name == "job.py" and layer.pixi_lock is None
    (tmp_path / "job.py.pixi.lock").write_text("lock")
    assert layer.pixi_lock == tmp_path / "job.py.pixi.lock"
    img.validate()


def test_from_ref_name() -> None:
    img = Image.from_ref_name("gpu")
    assert (img.name, img.ref_name, img.extendable) == ("gpu", "gpu", False)
    assert Image.from_ref_name().ref_name == "default"
    with pytest.raises(ValueError, match="Image.extendable is False"):
        img.with_pip_packages("x")


def test_clone_rules() -> None:
    with pytest.raises(ValueError, match="Image.name is None: name the image before adding layers"):
        Image.from_base("python:3.12").clone(extendable=True).with_pip_packages("x")
    with pytest.raises(ImageBuildError, match="Image.name is None"):
        _ = Image.from_base("python:3.12").clone().uri
    cloned = named().clone(
        registry_secret=Secret("s"), python_version=(3, 13), platform="linux/arm64"
    )
    assert cloned.python_version == (3, 13) and cloned.platform == ("linux/arm64",)
    with pytest.raises(TypeError, match="addl_layer must be a Layer, got 'x'"):
        named().clone(addl_layer="x")  # type: ignore[arg-type]


def test_identifier_is_deterministic_and_content_based(tmp_path: Path) -> None:
    a = named().with_pip_packages("x").with_env_vars({"K": "V"})
    b = named().with_pip_packages("x").with_env_vars({"K": "V"})
    assert a == b and a.identifier == b.identifier and hash(a) == hash(b)
    assert named().with_pip_packages("y").with_env_vars({"K": "V"}).identifier != a.identifier
    assert named().with_env_vars({"K": "V"}).with_pip_packages("x").identifier != a.identifier
    assert a.clone(python_version=(3, 10)).identifier != a.identifier
    assert a.clone(platform=("linux/arm64",)).identifier != a.identifier
    # name and registry are not content: the tag stays, the URI changes
    assert a.clone(name="other", registry="elsewhere").identifier == a.identifier


def _tree(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "mod.cpython.pyc").write_bytes(os.urandom(8))
    (root / "notes.log").write_text(os.urandom(8).hex())
    (root / ".dockerignore").write_text("*.log\n")
    return root


def test_folder_layers_hash_contents_not_locations(tmp_path: Path) -> None:
    one, two = _tree(tmp_path / "one" / "src"), _tree(tmp_path / "two" / "deeper" / "src")
    id_one = named().with_source_folder(one).identifier
    id_two = named().with_source_folder(two).identifier
    assert id_one == id_two
    assert str(tmp_path) not in json.dumps(named().with_source_folder(one).canonical())
    (two / "pkg" / "mod.py").write_text("x = 2\n")
    assert named().with_source_folder(two).identifier != id_one


def test_dockerignore_layer_patterns_apply_to_copied_folders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep.py").write_text("1")
    (src / "data").mkdir()
    (src / "data" / "big.bin").write_bytes(b"a")
    ignore = tmp_path / "ignore" / ".dockerignore"
    ignore.parent.mkdir()
    ignore.write_text("# comment\ndata\n!data/keep.bin\n")
    img = named().with_dockerignore(ignore).with_source_folder(src)
    before = img.identifier
    (src / "data" / "big.bin").write_bytes(b"b")
    assert img.identifier == before
    (src / "data" / "keep.bin").write_bytes(b"c")
    assert img.identifier != before
    missing = named().with_dockerignore(tmp_path / "absent")
    assert missing.canonical()["layers"][0]["path"] == {"name": "absent", "missing": True}


def test_file_layers_change_the_identifier_when_contents_change(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("a\n")
    img = named().with_requirements(str(req))
    first = img.identifier
    req.write_text("b\n")
    assert img.identifier != first


def test_project_layers_in_install_project_mode_hash_the_project(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[project]\n")
    (proj / "poetry.lock").write_text("")
    (proj / "pixi.toml").write_text("")
    (proj / "code.py").write_text("1")
    images = [
        named().with_uv_project(proj / "pyproject.toml", project_install_mode="install_project"),
        named().with_poetry_project(
            proj / "pyproject.toml", project_install_mode="install_project"
        ),
        named().with_pixi_project(proj / "pixi.toml", project_install_mode="install_project"),
    ]
    before = [i.identifier for i in images]
    (proj / "code.py").write_text("2")
    assert all(i.identifier != b for i, b in zip(images, before, strict=True))
    for i in images:
        i.validate()


def test_identifier_is_the_same_in_another_process(tmp_path: Path) -> None:
    folder = _tree(tmp_path / "proj")
    img = named().with_apt_packages("git").with_source_folder(folder).with_env_vars({"A": "b"})
    code = (
        "import sys; from pathlib import Path; from flyte_models import Image\n"
        "img = Image.from_base('python:3.12-slim').clone(name='img', registry='reg.example.com', "
        "extendable=True)\n"
        "img = img.with_apt_packages('git').with_source_folder(Path(sys.argv[1])).with_env_vars({'A': 'b'})\n"
        "print(img.identifier)\n"
    )
    src_root = str(Path(flyte_models.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": src_root, "PYTHONHASHSEED": "123"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == img.identifier


def test_validate_reports_missing_inputs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Requirements.file"):
        named().with_requirements(tmp_path / "nope.txt").validate()
    with pytest.raises(ImageBuildError, match="CopyConfig.src .* does not exist"):
        named().with_source_folder(tmp_path / "nope").validate()
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(ImageBuildError, match="is not a directory"):
        named().with_source_folder(f).validate()
    with pytest.raises(ImageBuildError, match="is not a file"):
        named().with_source_file(tmp_path).validate()
    with pytest.raises(FileNotFoundError, match="UVProject.pyproject"):
        named().with_uv_project(tmp_path / "pyproject.toml").validate()
    with pytest.raises(FileNotFoundError, match="PoetryProject.pyproject"):
        named().with_poetry_project(tmp_path / "pyproject.toml").validate()
    with pytest.raises(FileNotFoundError, match="PixiProject.manifest"):
        named().with_pixi_project(tmp_path / "pixi.toml").validate()
    named().with_code_bundle().validate()


def test_bad_layer_values_name_field_and_value(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file must be a .txt requirements file, got '.*req.in'"):
        named().with_requirements(tmp_path / "req.in")
    with pytest.raises(TypeError, match="AptPackages.packages must be a tuple, not a list"):
        AptPackages(packages=["git"])  # type: ignore[arg-type]
    with pytest.raises(
        TypeError, match="packages must be strings passed as separate arguments, got \\['a'\\]"
    ):
        named().with_pip_packages(["a"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="packages must be strings .* got \\['git'\\]"):
        named().with_apt_packages(["git"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="commands must be strings, got 1"):
        named().with_commands([1])  # type: ignore[list-item]
    with pytest.raises(
        ValueError, match="CopyConfig.path_type must be 0 \\(file\\) or 1 \\(directory\\), got 2"
    ):
        CopyConfig(path_type=2, src=Path("."), dst=".")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CodeBundleLayer.copy_style must be .* got 'some'"):
        named().with_code_bundle(copy_style="some")  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="plugins entries must start with 'flyteplugins-', got 'ray'"
    ):
        named().with_local_v2_plugins(["ray"])
    with pytest.raises(TypeError, match="env_vars must be a dict of str to str, got \\[\\]"):
        named().with_env_vars([])  # type: ignore[arg-type]
    with pytest.raises(
        ValueError, match="PixiProject.manifest must be named pixi.toml or pyproject.toml"
    ):
        bad = tmp_path / "env.toml"
        bad.write_text("")
        named().with_pixi_project(bad).validate()
    assert CopyConfig(path_type=0, src="x.txt", dst=".").src == Path("x.txt")  # type: ignore[arg-type]


def test_images_pickle_round_trip(tmp_path: Path) -> None:
    import pickle

    img = named().with_pip_packages("x")
    copy = pickle.loads(pickle.dumps(img))
    assert copy == img and copy.identifier == img.identifier
