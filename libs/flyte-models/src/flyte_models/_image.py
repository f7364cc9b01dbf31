"""A declarative, immutable container image specification.

An `Image` starts from a base (`from_base`, `from_debian_base`, `from_dockerfile`,
`from_uv_script`, `from_pixi_script`, `from_ref_name`) and grows by `with_*` calls, each of which
returns a new `Image` with one more typed layer appended. Nothing is built here: flyte-imagebuild
turns the spec into a Dockerfile and a build, and the layers carry everything it needs.

`Image.identifier` is a content digest: SHA-256 over a canonical JSON serialisation of the base,
the Python version, the platforms and every layer, where file and directory layers contribute the
*contents* (and relative names) of their files rather than their absolute paths. The same spec
gives the same identifier on any machine; changing a layer, or a file a layer copies, changes it.
`Image.uri` uses it as the tag of a built image.

Defaults that would otherwise hard-wire a registry can be overridden with environment variables,
read when the image is created:

* `FLYTE_DEFAULT_BASE_IMAGE`: the base of images built by `from_debian_base` (default
  `python:{python_version}-slim-bookworm`; `{python_version}` is replaced by e.g. `3.12`), so a
  mirror or private registry can stand in for Docker Hub.
* `FLYTE_DEFAULT_IMAGE_REGISTRY`: where the released, prebuilt default images are pulled from
  (default `ghcr.io/flyteorg`, image name `flyte`, tag `py<X.Y>-v<version>`).
* `FLYTE_IMAGE_REGISTRY`: the registry that built images are pushed to, when none is given.
* `FLYTE_LOCAL_WHEELS_DIR`: a directory of locally built `flyte-*` wheels for `with_local_v2`
  (default: `dist/` at the root of this source checkout, else `./dist`). `from_debian_base`
  installs the runtime from it when it exists, and `flyte-runtime` from the index otherwise.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Optional, Union

from flyte_models._secret import Secret, SecretRequest
from flyte_models._version import __version__

__all__ = [
    "AptPackages",
    "Architecture",
    "CodeBundleLayer",
    "Commands",
    "CopyConfig",
    "DockerIgnore",
    "Env",
    "Image",
    "Layer",
    "PipOption",
    "PipPackages",
    "PixiProject",
    "PixiScript",
    "PoetryProject",
    "PythonWheels",
    "Requirements",
    "UVProject",
    "UVScript",
    "WorkDir",
]

Architecture = Literal["linux/amd64", "linux/arm64"]
"""A container platform."""

ProjectInstallMode = Literal["dependencies_only", "install_project"]

ENV_DEFAULT_BASE_IMAGE = "FLYTE_DEFAULT_BASE_IMAGE"
ENV_DEFAULT_IMAGE_REGISTRY = "FLYTE_DEFAULT_IMAGE_REGISTRY"
ENV_IMAGE_REGISTRY = "FLYTE_IMAGE_REGISTRY"
ENV_LOCAL_WHEELS_DIR = "FLYTE_LOCAL_WHEELS_DIR"

DEFAULT_BASE_IMAGE_TEMPLATE = "python:{python_version}-slim-bookworm"
DEFAULT_IMAGE_REGISTRY = "ghcr.io/flyteorg"
DEFAULT_IMAGE_NAME = "flyte"
DEFAULT_REF_NAME = "default"
DEFAULT_PLATFORMS: tuple[Architecture, ...] = ("linux/amd64", "linux/arm64")
RUNTIME_PACKAGE = "flyte-runtime"

_CREATE_FLYTE_USER = (
    "if ! id -u flyte >/dev/null 2>&1; then useradd --create-home --shell /bin/bash flyte; fi && "
    "mkdir -p /home/flyte && chown -R flyte:flyte /home/flyte && chown -R flyte:flyte /root"
)
_DEFAULT_ENV = {
    "VIRTUAL_ENV": "/opt/venv",
    "PATH": "/opt/venv/bin:$PATH",
    "PYTHONPATH": "/root",
    "UV_LINK_MODE": "copy",
}
_ALWAYS_IGNORED = ("__pycache__", "*.pyc", ".git", ".DS_Store")
_PIXI_PLATFORMS = {"linux/amd64": "linux-64", "linux/arm64": "linux-aarch64"}


def _as_tuple(value: Any) -> tuple[Any, ...] | None:
    """`None` stays `None`; a list or tuple becomes a tuple; anything else a 1-tuple."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return tuple(value)
    return (value,)


# ---------------------------------------------------------------------------------------------
# Content hashing (canonical, machine-independent)
# ---------------------------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read_ignore_patterns(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


class _Ignore:
    """A `.dockerignore`-style matcher: glob patterns, `!` re-includes, last match wins."""

    def __init__(self, patterns: list[str]) -> None:
        self._patterns = [p.rstrip("/") for p in patterns if p.rstrip("/")]
        # With re-includes, an excluded directory may still contain included files.
        self.can_prune = not any(p.startswith("!") for p in self._patterns)

    def ignored(self, rel: str) -> bool:
        parts = rel.split("/")
        if any(fnmatch.fnmatch(part, pat) for part in parts for pat in _ALWAYS_IGNORED):
            return True
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        result = False
        for pattern in self._patterns:
            negate = pattern.startswith("!")
            pat = pattern[1:] if negate else pattern
            pat = pat.lstrip("/")
            if any(fnmatch.fnmatch(prefix, pat) for prefix in prefixes):
                result = not negate
        return result


def _path_summary(path: Path | None, ignore_patterns: Sequence[str] = ()) -> Any:
    """A canonical description of a file or directory: names relative to it, content digests.

    Files of a directory are skipped when they match `ignore_patterns` or the directory's own
    `.dockerignore` (and always for VCS and bytecode files).
    """
    if path is None:
        return None
    path = Path(path)
    if path.is_file():
        return {"name": path.name, "sha256": _file_digest(path)}
    if path.is_dir():
        matcher = _Ignore([*ignore_patterns, *_read_ignore_patterns(path / ".dockerignore")])
        entries = []
        for root, dirs, files in os.walk(path):
            rel_root = Path(root).relative_to(path).as_posix()
            dirs[:] = sorted(
                d
                for d in dirs
                if not (
                    matcher.can_prune
                    and matcher.ignored(d if rel_root == "." else f"{rel_root}/{d}")
                )
                and not any(fnmatch.fnmatch(d, pat) for pat in _ALWAYS_IGNORED)
            )
            for name in sorted(files):
                rel = name if rel_root == "." else f"{rel_root}/{name}"
                if not matcher.ignored(rel):
                    entries.append([rel, _file_digest(Path(root) / name)])
        return {"name": path.name, "tree": entries}
    return {"name": path.name, "missing": True}


def _script_metadata(path: Path) -> str | None:
    """The PEP 723 `# /// script` block of a script (what decides its environment), if any."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    block: list[str] | None = None
    for line in lines:
        if block is None:
            if line.strip() == "# /// script":
                block = []
        elif line.strip() == "# ///":
            return "\n".join(block)
        else:
            block.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return None


def _canonical_value(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"secret": value.key, "group": value.group, "env": value.as_env_var}
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, list | tuple):
        return [_canonical_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One step of an image spec. Layers are immutable, hashable and applied in order.

    Subclasses describe *what* to add; `canonical()` gives the machine-independent form that the
    image identifier digests (file-bearing layers contribute file contents, not paths).
    """

    _PATH_FIELDS: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                raise TypeError(
                    f"{type(self).__name__}.{f.name} must be a tuple, not a list, got {value!r} "
                    "(pass items as separate arguments)"
                )

    def validate(self) -> None:
        """Check that what the layer refers to exists (called before a build)."""

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return the layer as canonical JSON data (paths replaced by content summaries).

        Args:
            ignore_patterns: `.dockerignore` patterns applied to directories the layer copies.

        Returns:
            JSON-serialisable data.
        """
        data: dict[str, Any] = {"layer": type(self).__name__}
        for f in dataclasses.fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            if f.name in self._PATH_FIELDS:
                data[f.name] = _path_summary(value, ignore_patterns)
            else:
                data[f.name] = _canonical_value(value)
        return data


@dataclass(frozen=True, kw_only=True)
class PipOption(Layer):
    """Options shared by layers that install Python packages (pip/uv).

    Args:
        index_url: The package index to use instead of PyPI.
        extra_index_urls: Further package indexes.
        pre: Allow pre-release versions.
        extra_args: Further installer arguments, verbatim.
        secret_mounts: Secrets mounted during the install (e.g. index credentials).
    """

    index_url: Optional[str] = None
    extra_index_urls: Optional[tuple[str, ...]] = None
    pre: bool = False
    extra_args: Optional[str] = None
    secret_mounts: Optional[tuple[Union[str, Secret], ...]] = None

    def get_pip_install_args(self) -> list[str]:
        """Return the installer arguments these options stand for."""
        args: list[str] = []
        if self.index_url:
            args.append(f"--index-url {self.index_url}")
        args.extend(f"--extra-index-url {url}" for url in self.extra_index_urls or ())
        if self.pre:
            args.append("--pre")
        if self.extra_args:
            args.append(self.extra_args)
        return args


@dataclass(frozen=True, kw_only=True)
class PipPackages(PipOption):
    """Install Python packages (pip requirement specifiers).

    Args:
        packages: The requirement specifiers, e.g. `("pandas>=2", "numpy")`.
    """

    packages: Optional[tuple[str, ...]] = None


@dataclass(frozen=True, kw_only=True)
class Requirements(PipPackages):
    """Install the packages listed in a requirements file.

    Args:
        file: The requirements `.txt` file.
    """

    file: Path
    _PATH_FIELDS: ClassVar[tuple[str, ...]] = ("file",)

    def validate(self) -> None:
        """Check that the requirements file exists."""
        if not Path(self.file).is_file():
            raise FileNotFoundError(f"Requirements.file {str(self.file)!r} does not exist")


@dataclass(frozen=True, kw_only=True)
class PythonWheels(PipOption):
    """Install a package from a directory of locally built wheels.

    Args:
        wheel_dir: The directory holding the `.whl` files.
        package_name: The package to install from it.
    """

    wheel_dir: Path
    package_name: str

    @property
    def wheel_dir_name(self) -> str:
        """The wheel directory's base name."""
        return Path(self.wheel_dir).name

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data: the package and the digests of the wheels in the directory."""
        data = super().canonical(ignore_patterns)
        wheels = sorted(Path(self.wheel_dir).glob("*.whl")) if Path(self.wheel_dir).is_dir() else []
        data["wheel_dir"] = [[w.name, _file_digest(w)] for w in wheels if w.is_file()]
        return data


@dataclass(frozen=True, kw_only=True)
class UVProject(PipOption):
    """Install the dependencies (or the whole project) of a uv project.

    Args:
        pyproject: The project's `pyproject.toml`.
        uvlock: Its `uv.lock`, if any.
        project_install_mode: `dependencies_only`, or `install_project` to copy and install the
            whole project directory.
    """

    pyproject: Path
    uvlock: Optional[Path] = None
    project_install_mode: ProjectInstallMode = "dependencies_only"
    _PATH_FIELDS: ClassVar[tuple[str, ...]] = ("pyproject", "uvlock")

    def validate(self) -> None:
        """Check that the project files exist."""
        if not Path(self.pyproject).is_file():
            raise FileNotFoundError(f"UVProject.pyproject {str(self.pyproject)!r} is not a file")
        if self.uvlock is not None and not Path(self.uvlock).is_file():
            raise FileNotFoundError(f"UVProject.uvlock {str(self.uvlock)!r} does not exist")

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data; `install_project` digests the whole project directory."""
        data = super().canonical(ignore_patterns)
        if self.project_install_mode == "install_project":
            data["project"] = _path_summary(Path(self.pyproject).parent, ignore_patterns)
        return data


@dataclass(frozen=True, kw_only=True)
class PoetryProject(Layer):
    """Install the dependencies (or the whole project) of a Poetry project.

    Args:
        pyproject: The project's `pyproject.toml`.
        poetry_lock: Its `poetry.lock`.
        extra_args: Further `poetry install` arguments.
        project_install_mode: `dependencies_only` or `install_project`.
        secret_mounts: Secrets mounted during the install.
    """

    pyproject: Path
    poetry_lock: Path
    extra_args: Optional[str] = None
    project_install_mode: ProjectInstallMode = "dependencies_only"
    secret_mounts: Optional[tuple[Union[str, Secret], ...]] = None
    _PATH_FIELDS: ClassVar[tuple[str, ...]] = ("pyproject", "poetry_lock")

    def validate(self) -> None:
        """Check that the project files exist."""
        if not Path(self.pyproject).is_file():
            raise FileNotFoundError(
                f"PoetryProject.pyproject {str(self.pyproject)!r} is not a file"
            )
        if not Path(self.poetry_lock).is_file():
            raise FileNotFoundError(
                f"PoetryProject.poetry_lock {str(self.poetry_lock)!r} does not exist"
            )

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data; `install_project` digests the whole project directory."""
        data = super().canonical(ignore_patterns)
        if self.project_install_mode == "install_project":
            data["project"] = _path_summary(Path(self.pyproject).parent, ignore_patterns)
        return data


@dataclass(frozen=True, kw_only=True)
class PixiProject(Layer):
    """Install a pixi environment (conda and PyPI packages) from a pixi manifest.

    Args:
        manifest: `pixi.toml`, or a `pyproject.toml` with a `[tool.pixi]` table.
        pixi_lock: Its `pixi.lock`, if any (then the install is `--locked`).
        environment: The pixi environment to install and activate.
        extra_args: Further `pixi install` arguments.
        project_install_mode: `dependencies_only` or `install_project`.
        secret_mounts: Secrets mounted during the install.
    """

    manifest: Path
    pixi_lock: Optional[Path] = None
    environment: str = "default"
    extra_args: Optional[str] = None
    project_install_mode: ProjectInstallMode = "dependencies_only"
    secret_mounts: Optional[tuple[Union[str, Secret], ...]] = None
    _PATH_FIELDS: ClassVar[tuple[str, ...]] = ("manifest", "pixi_lock")

    def validate(self) -> None:
        """Check that the manifest exists and has a name pixi discovers."""
        manifest = Path(self.manifest)
        if not manifest.is_file():
            raise FileNotFoundError(f"PixiProject.manifest {str(manifest)!r} is not a file")
        if manifest.name not in ("pixi.toml", "pyproject.toml"):
            raise ValueError(
                f"PixiProject.manifest must be named pixi.toml or pyproject.toml, got {manifest.name!r}"
            )
        if self.pixi_lock is not None and not Path(self.pixi_lock).is_file():
            raise FileNotFoundError(f"PixiProject.pixi_lock {str(self.pixi_lock)!r} does not exist")

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data; `install_project` digests the whole project directory."""
        data = super().canonical(ignore_patterns)
        if self.project_install_mode == "install_project":
            data["project"] = _path_summary(Path(self.manifest).parent, ignore_patterns)
        return data


@dataclass(frozen=True, kw_only=True)
class UVScript(PipOption):
    """Install the dependencies a script declares in its PEP 723 (`# /// script`) block.

    Only the block contributes to the identifier, so editing the script's code keeps the image.

    Args:
        script: The `.py` script.
    """

    script: Path

    @property
    def script_name(self) -> str:
        """The script's file name."""
        return Path(self.script).name

    def validate(self) -> None:
        """Check that the script exists and is a `.py` file."""
        script = Path(self.script)
        if not script.is_file():
            raise FileNotFoundError(f"UVScript.script {str(script)!r} is not a file")
        if script.suffix != ".py":
            raise ValueError(f"UVScript.script must be a .py file, got {str(script)!r}")

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data: the options and the script's metadata block."""
        data = super().canonical(ignore_patterns)
        data["script"] = {"name": self.script_name, "metadata": _script_metadata(Path(self.script))}
        return data


@dataclass(frozen=True, kw_only=True)
class PixiScript(Layer):
    """Install a pixi environment from the PEP 723 block (with `[tool.pixi.*]` tables) of a script.

    Args:
        script: The `.py` script.
        platforms: Conda platforms the environment supports (from the image platforms).
        environment: The pixi environment.
        extra_args: Further `pixi install` arguments.
        secret_mounts: Secrets mounted during the install.
    """

    script: Path
    platforms: tuple[str, ...] = ("linux-64",)
    environment: str = "default"
    extra_args: Optional[str] = None
    secret_mounts: Optional[tuple[Union[str, Secret], ...]] = None

    @property
    def script_name(self) -> str:
        """The script's file name."""
        return Path(self.script).name

    @property
    def pixi_lock(self) -> Optional[Path]:
        """The sidecar lock file `<script>.pixi.lock`, if it exists."""
        lock = Path(self.script).with_name(f"{Path(self.script).name}.pixi.lock")
        return lock if lock.exists() else None

    def validate(self) -> None:
        """Check that the script exists and is a `.py` file."""
        script = Path(self.script)
        if not script.is_file():
            raise FileNotFoundError(f"PixiScript.script {str(script)!r} is not a file")
        if script.suffix != ".py":
            raise ValueError(f"PixiScript.script must be a .py file, got {str(script)!r}")

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data: options, the script's metadata block and its lock file."""
        data = super().canonical(ignore_patterns)
        data["script"] = {"name": self.script_name, "metadata": _script_metadata(Path(self.script))}
        data["pixi_lock"] = _path_summary(self.pixi_lock)
        return data


@dataclass(frozen=True, kw_only=True)
class AptPackages(Layer):
    """Install Debian packages with apt.

    Args:
        packages: The package names.
        secret_mounts: Secrets mounted during the install.
    """

    packages: tuple[str, ...]
    secret_mounts: Optional[tuple[Union[str, Secret], ...]] = None


@dataclass(frozen=True, kw_only=True)
class Commands(Layer):
    """Run shell commands (each becomes a `RUN` step; do not prefix them with `RUN`).

    Args:
        commands: The commands.
        secret_mounts: Secrets mounted while they run.
    """

    commands: tuple[str, ...]
    secret_mounts: Optional[tuple[Union[str, Secret], ...]] = None


@dataclass(frozen=True, kw_only=True)
class WorkDir(Layer):
    """Set the working directory.

    Args:
        workdir: The directory.
    """

    workdir: str


@dataclass(frozen=True, kw_only=True)
class DockerIgnore(Layer):
    """Use a `.dockerignore` file for the source layers of the image.

    Args:
        path: The `.dockerignore` file (it may be absent where the image is only defined).
    """

    path: str

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data: the ignore file's digest (or its name when absent)."""
        return {"layer": "DockerIgnore", "path": _path_summary(Path(self.path))}


@dataclass(frozen=True, kw_only=True)
class CopyConfig(Layer):
    """Copy a local file (`path_type=0`) or directory (`path_type=1`) into the image.

    Args:
        path_type: 0 for a file, 1 for a directory.
        src: The local source path.
        dst: The destination in the image (relative to the working directory).
    """

    path_type: Literal[0, 1]
    src: Path
    dst: str

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.path_type not in (0, 1):
            raise ValueError(
                f"CopyConfig.path_type must be 0 (file) or 1 (directory), got {self.path_type!r}"
            )
        if not isinstance(self.src, Path):
            object.__setattr__(self, "src", Path(self.src))

    def validate(self) -> None:
        """Check that the source exists and has the declared type."""
        from flyte_models.errors import ImageBuildError

        src = Path(self.src)
        if not src.exists():
            raise ImageBuildError(f"CopyConfig.src {str(src.absolute())!r} does not exist")
        if self.path_type == 1 and not src.is_dir():
            raise ImageBuildError(f"CopyConfig.src {str(src.absolute())!r} is not a directory")
        if self.path_type == 0 and not src.is_file():
            raise ImageBuildError(f"CopyConfig.src {str(src.absolute())!r} is not a file")

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data: the destination and the source's contents."""
        return {
            "layer": "CopyConfig",
            "path_type": self.path_type,
            "src": _path_summary(self.src, ignore_patterns),
            "dst": self.dst,
        }


@dataclass(frozen=True, kw_only=True)
class CodeBundleLayer(Layer):
    """Bake the user's code into the image when runs use `copy_style="none"` (resolved later).

    Args:
        copy_style: `loaded_modules` (imported modules only) or `all` (the whole root directory).
        dst: Destination in the image.
        root_dir: The source root, set when the layer is resolved at build time.
    """

    copy_style: Literal["loaded_modules", "all"]
    dst: str = "."
    root_dir: Optional[Path] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.copy_style not in ("loaded_modules", "all"):
            raise ValueError(
                "CodeBundleLayer.copy_style must be 'loaded_modules' or 'all', "
                f"got {self.copy_style!r}"
            )

    def canonical(self, ignore_patterns: Sequence[str] = ()) -> dict[str, Any]:
        """Return canonical data (the root directory's contents once it is known)."""
        return {
            "layer": "CodeBundleLayer",
            "copy_style": self.copy_style,
            "dst": self.dst,
            "root_dir": (
                _path_summary(self.root_dir, ignore_patterns) if self.root_dir is not None else None
            ),
        }


@dataclass(frozen=True, kw_only=True)
class Env(Layer):
    """Set environment variables (ordered `(name, value)` pairs).

    Args:
        env_vars: The variables.
    """

    env_vars: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_dict(cls, envs: dict[str, str]) -> Env:
        """Build the layer from a dict (keeping its order).

        Args:
            envs: The variables.

        Returns:
            The layer.
        """
        return cls(env_vars=tuple((str(k), str(v)) for k, v in envs.items()))


# ---------------------------------------------------------------------------------------------
# Image
# ---------------------------------------------------------------------------------------------


def _detect_python_version() -> tuple[int, int]:
    return sys.version_info.major, sys.version_info.minor


def _configured_registry() -> Optional[str]:
    return os.environ.get(ENV_IMAGE_REGISTRY) or None


def _local_wheels_dir() -> Path:
    configured = os.environ.get(ENV_LOCAL_WHEELS_DIR)
    if configured:
        return Path(configured)
    # In a source checkout this file is libs/flyte-models/src/flyte_models/_image.py, and
    # `./pants package ::` writes wheels to dist/ at the repository root.
    parents = Path(__file__).resolve().parents
    if len(parents) > 4 and parents[3].name == "libs":
        return parents[4] / "dist"
    return Path.cwd() / "dist"


def _check_platform(platform: Any) -> tuple[Architecture, ...]:
    values = _as_tuple(platform) or ()
    for value in values:
        if value not in ("linux/amd64", "linux/arm64"):
            raise ValueError(
                f"platform must be 'linux/amd64' or 'linux/arm64' (or a tuple of them), got {platform!r}"
            )
    if not values:
        raise ValueError(f"platform must name at least one architecture, got {platform!r}")
    return values  # type: ignore[return-value]


def _check_python_version(python_version: Any) -> tuple[int, int]:
    if (
        not isinstance(python_version, tuple)
        or len(python_version) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in python_version)
    ):
        raise ValueError(
            f"python_version must be a (major, minor) tuple of ints, got {python_version!r}"
        )
    return python_version


_NEW_TOKEN = object()


@dataclass(frozen=True)
class Image:
    """A container image spec: a base plus ordered layers. Build it with the `from_*` class methods.

    Direct construction (`Image(...)`) raises `TypeError`; every `with_*` method returns a new
    image. Layers can only be added to an *extendable* image with a name (`from_debian_base` and
    the script constructors are extendable; use `clone(name=..., extendable=True)` otherwise).

    Args:
        base_image: The base image URI.
        dockerfile: A Dockerfile to build instead of a base plus layers.
        registry: The registry the built image is pushed to.
        name: The image (repository) name.
        platform: Platforms to build for.
        python_version: The image's Python `(major, minor)`.
        extendable: Whether layers may be added.
        _is_cloned: Whether the image was modified (and must be built) rather than used as is.
        _ref_name: The name of an image reference resolved from configuration.
        _layers: The layers, in order.
        _image_registry_secret: Credentials for pulling and pushing the image.

    Example:
        ```python
        image = (
            Image.from_debian_base(python_version=(3, 12))
            .with_apt_packages("git")
            .with_pip_packages("pandas>=2")
        )
        image.identifier   # content digest of the spec
        image.uri          # "<registry>/flyte:<identifier>"
        ```
    """

    base_image: Optional[str] = None
    dockerfile: Optional[Path] = None
    registry: Optional[str] = None
    name: Optional[str] = None
    platform: tuple[Architecture, ...] = ("linux/amd64",)
    python_version: tuple[int, int] = field(default_factory=_detect_python_version)
    extendable: bool = False
    _is_cloned: bool = False
    _ref_name: Optional[str] = None
    _layers: tuple[Layer, ...] = ()
    _image_registry_secret: Optional[Secret] = None

    def __post_init__(self) -> None:
        if self.__dict__.pop("_new_token", None) is not _NEW_TOKEN:
            raise TypeError(
                "Image cannot be instantiated directly; use Image.from_base(), "
                "Image.from_debian_base() or another from_*() constructor"
            )
        if self.base_image is not None and not isinstance(self.base_image, str):
            raise TypeError(f"Image.base_image must be a str or None, got {self.base_image!r}")
        object.__setattr__(self, "platform", _check_platform(self.platform))
        _check_python_version(self.python_version)
        for layer in self._layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Image layers must be Layer instances, got {layer!r}")

    @classmethod
    def _new(cls, **kwargs: Any) -> Image:
        obj = cls.__new__(cls)
        object.__setattr__(obj, "_new_token", _NEW_TOKEN)
        obj.__init__(**kwargs)  # type: ignore[misc]
        return obj

    # -- constructors --------------------------------------------------------------------------

    @classmethod
    def from_base(cls, image_uri: str) -> Image:
        """Use an existing, prebuilt image as is.

        The container runs as the base image's `USER` in its `WORKDIR`; that user must be able to
        write there (the runtime unpacks the code bundle into it).

        Args:
            image_uri: The full image URI, `<registry>/<name>:<tag>`.

        Returns:
            The image (not extendable; `clone(name=..., extendable=True)` to add layers).

        Raises:
            ValueError: If `image_uri` is empty.
        """
        if not isinstance(image_uri, str) or not image_uri.strip():
            raise ValueError(f"image_uri must be a non-empty image URI, got {image_uri!r}")
        return cls._new(base_image=image_uri)

    @classmethod
    def from_ref_name(cls, name: str = DEFAULT_REF_NAME) -> Image:
        """Refer to an image by a name resolved from configuration (`images:` / `--image name=uri`).

        Args:
            name: The reference name.

        Returns:
            The image reference.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        return cls._new(name=name, _ref_name=name)

    @classmethod
    def from_debian_base(
        cls,
        python_version: Optional[tuple[int, int]] = None,
        flyte_version: Optional[str] = None,
        install_flyte: bool = True,
        registry: Optional[str] = None,
        registry_secret: Optional[Union[str, Secret]] = None,
        name: Optional[str] = None,
        platform: Optional[tuple[Architecture, ...]] = None,
    ) -> Image:
        """Start from the default Debian-based Python image (multi-arch by default).

        With `install_flyte` and a released version (this library's, or `flyte_version`), the
        result is the prebuilt default image `<FLYTE_DEFAULT_IMAGE_REGISTRY>/flyte:py<X.Y>-v<ver>`,
        used as is. Otherwise (development versions, or `install_flyte=False`) it is a spec built
        from `FLYTE_DEFAULT_BASE_IMAGE` (default `python:<X.Y>-slim-bookworm`) that adds a `flyte`
        user, `/home/flyte` as working directory, a virtualenv at `/opt/venv`, build tools, and
        (with `install_flyte`) the Flyte runtime from local wheels or the package index.

        Args:
            python_version: The Python `(major, minor)`; the running interpreter's by default.
            flyte_version: A released Flyte version whose prebuilt image to use.
            install_flyte: Install the Flyte runtime in the image.
            registry: The registry to push to (defaults to `FLYTE_IMAGE_REGISTRY`).
            registry_secret: Credentials for the registry (a secret key or `Secret`).
            name: The image name (default `flyte`).
            platform: The platforms (default `("linux/amd64", "linux/arm64")`).

        Returns:
            The image (extendable).
        """
        version = _check_python_version(python_version or _detect_python_version())
        platforms = _check_platform(platform) if platform else DEFAULT_PLATFORMS
        py = f"{version[0]}.{version[1]}"
        release = flyte_version or (None if "dev" in __version__ else __version__)
        if install_flyte and release:
            tag_version = release if release.startswith("v") else f"v{release}"
            default_registry = os.environ.get(ENV_DEFAULT_IMAGE_REGISTRY) or DEFAULT_IMAGE_REGISTRY
            image = cls._new(
                base_image=f"{default_registry}/{DEFAULT_IMAGE_NAME}:py{py}-{tag_version.replace('+', '-')}",
                registry=_configured_registry(),
                name=DEFAULT_IMAGE_NAME,
                python_version=version,
                platform=platforms,
                extendable=True,
            )
        else:
            template = os.environ.get(ENV_DEFAULT_BASE_IMAGE) or DEFAULT_BASE_IMAGE_TEMPLATE
            image = cls._new(
                base_image=template.replace("{python_version}", py),
                registry=_configured_registry(),
                name=DEFAULT_IMAGE_NAME,
                python_version=version,
                platform=platforms,
                extendable=True,
            )
            image = (
                image.with_commands([_CREATE_FLYTE_USER])
                .with_workdir("/home/flyte")
                .with_env_vars(dict(_DEFAULT_ENV))
                .with_apt_packages("build-essential", "ca-certificates")
            )
            if install_flyte:
                if _local_wheels_dir().is_dir():
                    image = image.with_local_v2()
                else:
                    image = image.with_pip_packages(RUNTIME_PACKAGE)
        if registry or name or registry_secret:
            image = image.clone(
                registry=registry, name=name, registry_secret=registry_secret, extendable=True
            )
        return image

    @classmethod
    def from_dockerfile(
        cls,
        file: Union[Path, str],
        registry: str,
        name: str,
        platform: Union[Architecture, tuple[Architecture, ...], None] = None,
    ) -> Image:
        """Build from a Dockerfile (its directory is the build context). No layers can be added.

        Args:
            file: The Dockerfile (use an absolute path).
            registry: The registry to push to.
            name: The image name.
            platform: The platform(s) to build for.

        Returns:
            The image.
        """
        if not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        kwargs: dict[str, Any] = {
            "dockerfile": Path(file),
            "registry": registry,
            "name": name,
            "extendable": False,
            "_is_cloned": True,
        }
        if platform is not None:
            kwargs["platform"] = _check_platform(platform)
        return cls._new(**kwargs)

    @classmethod
    def from_uv_script(
        cls,
        script: Union[Path, str],
        *,
        name: str,
        registry: Optional[str] = None,
        registry_secret: Optional[Union[str, Secret]] = None,
        python_version: Optional[tuple[int, int]] = None,
        index_url: Optional[str] = None,
        extra_index_urls: Union[str, list[str], tuple[str, ...], None] = None,
        pre: bool = False,
        extra_args: Optional[str] = None,
        platform: Optional[tuple[Architecture, ...]] = None,
        secret_mounts: Optional[SecretRequest] = None,
    ) -> Image:
        """Build an image with the dependencies a uv script declares in its `# /// script` block.

        Args:
            script: The script.
            name: The image name.
            registry: The registry to push to.
            registry_secret: Credentials for the registry.
            python_version: The Python `(major, minor)`.
            index_url: The package index.
            extra_index_urls: Further package indexes.
            pre: Allow pre-releases.
            extra_args: Further installer arguments.
            platform: The platforms.
            secret_mounts: Secrets mounted during the install.

        Returns:
            The image.
        """
        layer = UVScript(
            script=Path(script),
            index_url=index_url,
            extra_index_urls=_as_tuple(extra_index_urls) if extra_index_urls else None,
            pre=pre,
            extra_args=extra_args,
            secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
        )
        image = cls.from_debian_base(
            python_version=python_version,
            install_flyte=False,
            registry=registry,
            registry_secret=registry_secret,
            name=name,
            platform=platform,
        )
        return image.clone(addl_layer=layer)

    @classmethod
    def from_pixi_script(
        cls,
        script: Union[Path, str],
        *,
        name: str,
        registry: Optional[str] = None,
        registry_secret: Optional[Union[str, Secret]] = None,
        environment: str = "default",
        extra_args: Optional[str] = None,
        platform: Optional[tuple[Architecture, ...]] = None,
        secret_mounts: Optional[SecretRequest] = None,
    ) -> Image:
        """Build an image from a pixi script's PEP 723 block (conda and PyPI packages).

        List `flyte` in the script's dependencies: it is not added for you.

        Args:
            script: The script.
            name: The image name.
            registry: The registry to push to.
            registry_secret: Credentials for the registry.
            environment: The pixi environment.
            extra_args: Further `pixi install` arguments.
            platform: The platforms.
            secret_mounts: Secrets mounted during the install.

        Returns:
            The image.
        """
        platforms = _check_platform(platform) if platform else DEFAULT_PLATFORMS
        layer = PixiScript(
            script=Path(script),
            platforms=tuple(_PIXI_PLATFORMS[p] for p in platforms),
            environment=environment,
            extra_args=extra_args,
            secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
        )
        image = cls.from_debian_base(
            install_flyte=False,
            registry=registry,
            registry_secret=registry_secret,
            name=name,
            platform=platform,
        )
        return image.clone(addl_layer=layer)

    # -- derivation ------------------------------------------------------------------------------

    def clone(
        self,
        registry: Optional[str] = None,
        registry_secret: Optional[Union[str, Secret]] = None,
        name: Optional[str] = None,
        base_image: Optional[str] = None,
        python_version: Optional[tuple[int, int]] = None,
        addl_layer: Optional[Layer] = None,
        extendable: Optional[bool] = None,
        platform: Union[Architecture, tuple[Architecture, ...], None] = None,
    ) -> Image:
        """Return a modified copy (which will be built), optionally with one more layer.

        Args:
            registry: New registry.
            registry_secret: New registry credentials (a key or `Secret`).
            name: New name.
            base_image: New base image.
            python_version: New Python version.
            addl_layer: A layer to append.
            extendable: New extendability (unchanged when `None`).
            platform: New platform(s).

        Returns:
            The new image.

        Raises:
            ValueError: When adding a layer to a non-extendable, Dockerfile-based or unnamed image.
        """
        if addl_layer is not None:
            if not isinstance(addl_layer, Layer):
                raise TypeError(f"addl_layer must be a Layer, got {addl_layer!r}")
            if not self.extendable:
                raise ValueError(
                    "Image.extendable is False, so addl_layer cannot be added; "
                    "clone(name=..., extendable=True) first"
                )
            if self.dockerfile:
                raise ValueError(
                    f"Image.dockerfile is {str(self.dockerfile)!r}: layers cannot be added to a "
                    "Dockerfile-based image; edit the Dockerfile instead"
                )
        new_name = name or self.name
        if addl_layer is not None and not new_name:
            raise ValueError(f"Image.name is {new_name!r}: name the image before adding layers")
        secret = registry_secret or self._image_registry_secret
        if isinstance(secret, str):
            secret = Secret(key=secret)
        return Image._new(
            base_image=base_image or self.base_image,
            dockerfile=self.dockerfile,
            registry=registry or self.registry,
            name=new_name,
            platform=_check_platform(platform) if platform else self.platform,
            python_version=python_version or self.python_version,
            extendable=self.extendable if extendable is None else extendable,
            _is_cloned=True,
            _ref_name=self._ref_name,
            _layers=(*self._layers, addl_layer) if addl_layer is not None else self._layers,
            _image_registry_secret=secret,
        )

    def with_workdir(self, workdir: str) -> Image:
        """Return a copy whose working directory is `workdir`.

        Args:
            workdir: The directory.

        Returns:
            The new image.
        """
        return self.clone(addl_layer=WorkDir(workdir=workdir))

    def with_requirements(
        self,
        file: Union[str, Path],
        index_url: Optional[str] = None,
        extra_index_urls: Union[str, list[str], tuple[str, ...], None] = None,
        pre: bool = False,
        extra_args: Optional[str] = None,
        secret_mounts: Optional[SecretRequest] = None,
    ) -> Image:
        """Return a copy that installs the packages of a requirements `.txt` file.

        Args:
            file: The requirements file.
            index_url: The package index.
            extra_index_urls: Further package indexes.
            pre: Allow pre-releases.
            extra_args: Further installer arguments.
            secret_mounts: Secrets mounted during the install.

        Returns:
            The new image.

        Raises:
            ValueError: If the file does not end in `.txt`.
        """
        path = Path(file)
        if path.suffix != ".txt":
            raise ValueError(f"file must be a .txt requirements file, got {str(path)!r}")
        return self.clone(
            addl_layer=Requirements(
                file=path,
                index_url=index_url,
                extra_index_urls=_as_tuple(extra_index_urls) if extra_index_urls else None,
                pre=pre,
                extra_args=extra_args,
                secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
            )
        )

    def with_pip_packages(
        self,
        *packages: str,
        index_url: Optional[str] = None,
        extra_index_urls: Union[str, list[str], tuple[str, ...], None] = None,
        pre: bool = False,
        extra_args: Optional[str] = None,
        secret_mounts: Optional[SecretRequest] = None,
    ) -> Image:
        """Return a copy that installs Python packages.

        Args:
            *packages: Requirement specifiers, e.g. `"pandas>=2"`.
            index_url: The package index.
            extra_index_urls: Further package indexes.
            pre: Allow pre-releases.
            extra_args: Further installer arguments.
            secret_mounts: Secrets mounted during the install (e.g. a token for a private index).

        Returns:
            The new image.
        """
        for package in packages:
            if not isinstance(package, str):
                raise TypeError(
                    f"packages must be strings passed as separate arguments, got {package!r}"
                )
        return self.clone(
            addl_layer=PipPackages(
                packages=packages or None,
                index_url=index_url,
                extra_index_urls=_as_tuple(extra_index_urls) if extra_index_urls else None,
                pre=pre,
                extra_args=extra_args,
                secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
            )
        )

    def with_env_vars(self, env_vars: dict[str, str]) -> Image:
        """Return a copy with environment variables set.

        Args:
            env_vars: The variables.

        Returns:
            The new image.
        """
        if not isinstance(env_vars, dict):
            raise TypeError(f"env_vars must be a dict of str to str, got {env_vars!r}")
        return self.clone(addl_layer=Env.from_dict(env_vars))

    def with_source_folder(
        self, src: Path, dst: str = ".", copy_contents_only: bool = False
    ) -> Image:
        """Return a copy that contains a local directory.

        Args:
            src: The directory.
            dst: Destination in the image; `.` puts the folder itself in the working directory.
            copy_contents_only: Copy the folder's contents rather than the folder.

        Returns:
            The new image.
        """
        src = Path(src)
        if not copy_contents_only and dst == ".":
            dst = "./" + src.name
        return self.clone(addl_layer=CopyConfig(path_type=1, src=src, dst=dst))

    def with_source_file(self, src: Union[Path, list[Path]], dst: str = ".") -> Image:
        """Return a copy that contains one or more local files.

        Args:
            src: A file, or a list of files (one layer each).
            dst: Destination directory in the image.

        Returns:
            The new image.

        Raises:
            ValueError: If several files share a name (they would overwrite each other).
        """
        if isinstance(src, list):
            names = [Path(p).name for p in src]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise ValueError(
                    f"src has several files named {duplicates} that would overwrite each other at {dst!r}"
                )
            image = self
            for path in src:
                image = image.clone(addl_layer=CopyConfig(path_type=0, src=Path(path), dst=dst))
            return image
        return self.clone(addl_layer=CopyConfig(path_type=0, src=Path(src), dst=dst))

    def with_code_bundle(
        self, copy_style: Literal["loaded_modules", "all"] = "loaded_modules", dst: str = "."
    ) -> Image:
        """Return a copy that bakes the user's code in when runs use `copy_style="none"`.

        Args:
            copy_style: `loaded_modules` or `all`.
            dst: Destination in the image.

        Returns:
            The new image.
        """
        return self.clone(addl_layer=CodeBundleLayer(copy_style=copy_style, dst=dst))

    def with_dockerignore(self, path: Path) -> Image:
        """Return a copy that uses a `.dockerignore` for its source layers (checked at build time).

        Args:
            path: The `.dockerignore` file.

        Returns:
            The new image.
        """
        return self.clone(addl_layer=DockerIgnore(path=str(path)))

    def with_uv_project(
        self,
        pyproject_file: Union[str, Path],
        uvlock: Optional[Path] = None,
        index_url: Optional[str] = None,
        extra_index_urls: Union[list[str], tuple[str, ...], None] = None,
        pre: bool = False,
        extra_args: Optional[str] = None,
        secret_mounts: Optional[SecretRequest] = None,
        project_install_mode: ProjectInstallMode = "dependencies_only",
    ) -> Image:
        """Return a copy that installs a uv project's dependencies (or the whole project).

        Args:
            pyproject_file: The project's `pyproject.toml`.
            uvlock: Its `uv.lock`; the one next to `pyproject.toml` if it exists.
            index_url: The package index.
            extra_index_urls: Further package indexes.
            pre: Allow pre-releases.
            extra_args: Further `uv sync` arguments.
            secret_mounts: Secrets mounted during the install.
            project_install_mode: `dependencies_only` or `install_project`.

        Returns:
            The new image.
        """
        pyproject = Path(pyproject_file)
        if uvlock is None:
            candidate = pyproject.parent / "uv.lock"
            uvlock = candidate if candidate.exists() else None
        return self.clone(
            addl_layer=UVProject(
                pyproject=pyproject,
                uvlock=uvlock,
                index_url=index_url,
                extra_index_urls=_as_tuple(extra_index_urls) if extra_index_urls else None,
                pre=pre,
                extra_args=extra_args,
                secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
                project_install_mode=project_install_mode,
            )
        )

    def with_poetry_project(
        self,
        pyproject_file: Union[str, Path],
        poetry_lock: Optional[Path] = None,
        extra_args: Optional[str] = None,
        secret_mounts: Optional[SecretRequest] = None,
        project_install_mode: ProjectInstallMode = "dependencies_only",
    ) -> Image:
        """Return a copy that installs a Poetry project's dependencies (or the whole project).

        Args:
            pyproject_file: The project's `pyproject.toml`.
            poetry_lock: Its `poetry.lock`; `poetry.lock` next to `pyproject.toml` by default.
            extra_args: Further `poetry install` arguments (e.g. `--no-root`).
            secret_mounts: Secrets mounted during the install.
            project_install_mode: `dependencies_only` or `install_project`.

        Returns:
            The new image.
        """
        pyproject = Path(pyproject_file)
        return self.clone(
            addl_layer=PoetryProject(
                pyproject=pyproject,
                poetry_lock=Path(poetry_lock) if poetry_lock else pyproject.parent / "poetry.lock",
                extra_args=extra_args,
                secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
                project_install_mode=project_install_mode,
            )
        )

    def with_pixi_project(
        self,
        manifest_file: Union[str, Path],
        pixi_lock: Optional[Path] = None,
        environment: str = "default",
        extra_args: Optional[str] = None,
        secret_mounts: Optional[SecretRequest] = None,
        project_install_mode: ProjectInstallMode = "dependencies_only",
    ) -> Image:
        """Return a copy that installs a pixi environment from a manifest.

        The pixi environment becomes the image's runtime environment, so it must provide
        `python` and `flyte`.

        Args:
            manifest_file: `pixi.toml`, a `pyproject.toml` with `[tool.pixi]`, or the project
                directory (where `pixi.toml` wins over `pyproject.toml`).
            pixi_lock: Its `pixi.lock`; the one next to the manifest if it exists.
            environment: The pixi environment to install and activate.
            extra_args: Further `pixi install` arguments.
            secret_mounts: Secrets mounted during the install.
            project_install_mode: `dependencies_only` or `install_project`.

        Returns:
            The new image.
        """
        manifest = Path(manifest_file)
        if manifest.is_dir():
            pixi_toml = manifest / "pixi.toml"
            manifest = pixi_toml if pixi_toml.exists() else manifest / "pyproject.toml"
        if pixi_lock is None:
            candidate = manifest.parent / "pixi.lock"
            pixi_lock = candidate if candidate.exists() else None
        return self.clone(
            addl_layer=PixiProject(
                manifest=manifest,
                pixi_lock=pixi_lock,
                environment=environment,
                extra_args=extra_args,
                secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
                project_install_mode=project_install_mode,
            )
        )

    def with_apt_packages(
        self, *packages: str, secret_mounts: Optional[SecretRequest] = None
    ) -> Image:
        """Return a copy that installs Debian packages.

        Args:
            *packages: The package names.
            secret_mounts: Secrets mounted during the install.

        Returns:
            The new image.
        """
        for package in packages:
            if not isinstance(package, str):
                raise TypeError(
                    f"packages must be strings passed as separate arguments, got {package!r}"
                )
        return self.clone(
            addl_layer=AptPackages(
                packages=tuple(packages),
                secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None,
            )
        )

    def with_commands(
        self, commands: list[str], secret_mounts: Optional[SecretRequest] = None
    ) -> Image:
        """Return a copy that runs shell commands (without a `RUN` prefix).

        Args:
            commands: The commands.
            secret_mounts: Secrets mounted while they run.

        Returns:
            The new image.
        """
        cmds = _as_tuple(commands) or ()
        for cmd in cmds:
            if not isinstance(cmd, str):
                raise TypeError(f"commands must be strings, got {cmd!r}")
        return self.clone(
            addl_layer=Commands(
                commands=cmds, secret_mounts=_as_tuple(secret_mounts) if secret_mounts else None
            )
        )

    def with_local_v2(self) -> Image:
        """Return a copy that installs the Flyte runtime from locally built wheels.

        The wheel directory is `FLYTE_LOCAL_WHEELS_DIR`, or `dist/` at the source checkout root
        (where `./pants package ::` writes the `flyte-*` wheels).

        Returns:
            The new image.
        """
        return self.clone(
            addl_layer=PythonWheels(wheel_dir=_local_wheels_dir(), package_name=RUNTIME_PACKAGE)
        )

    def with_local_v2_plugins(self, plugins: Union[str, list[str], None] = None) -> Image:
        """Return a copy that installs plugins (`flyteplugins-*`) from the local wheel directory.

        Args:
            plugins: A plugin distribution name or a list of them.

        Returns:
            The new image.

        Raises:
            ValueError: For a name that does not start with `flyteplugins-`.
        """
        names = [plugins] if isinstance(plugins, str) else list(plugins or [])
        image = self
        for plugin in names:
            if not plugin.startswith("flyteplugins-"):
                raise ValueError(f"plugins entries must start with 'flyteplugins-', got {plugin!r}")
            image = image.clone(
                addl_layer=PythonWheels(
                    wheel_dir=_local_wheels_dir(), package_name=plugin.replace("-", "_")
                )
            )
        return image

    def with_local_rs_controller(self) -> Image:
        """Return a copy that installs the optional Rust controller wheel from the local wheels."""
        return self.clone(
            addl_layer=PythonWheels(
                wheel_dir=_local_wheels_dir(), package_name="flyte_controller_base"
            )
        )

    # -- inspection ------------------------------------------------------------------------------

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, in the order they are applied."""
        return self._layers

    @property
    def ref_name(self) -> Optional[str]:
        """The configuration reference name, for `from_ref_name` images."""
        return self._ref_name

    @property
    def is_cloned(self) -> bool:
        """Whether the image was modified and has to be built (rather than used as is)."""
        return self._is_cloned

    @property
    def registry_secret(self) -> Optional[Secret]:
        """The registry credentials, if any."""
        return self._image_registry_secret

    def validate(self) -> None:
        """Check every layer's inputs (files exist, and so on); raises on the first problem."""
        for layer in self._layers:
            layer.validate()

    def canonical(self) -> dict[str, Any]:
        """Return the canonical, machine-independent description the identifier digests.

        The patterns of the last `DockerIgnore` layer apply to every directory a layer copies.
        """
        patterns: list[str] = []
        for layer in self._layers:
            if isinstance(layer, DockerIgnore) and layer.path.strip():
                patterns = _read_ignore_patterns(Path(layer.path))
        return {
            "base_image": self.base_image,
            "dockerfile": _path_summary(self.dockerfile) if self.dockerfile else None,
            "python_version": list(self.python_version),
            "platform": sorted(self.platform),
            "layers": [layer.canonical(patterns) for layer in self._layers],
        }

    @property
    def identifier(self) -> str:
        """A SHA-256 hex digest of `canonical()`: equal for equal specs on any machine."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def uri(self) -> str:
        """The image URI: the base URI for an unmodified image, else `[registry/]name:<tag>`.

        The tag of a built image is the first 32 characters of `identifier`.

        Raises:
            ImageBuildError: If the URI cannot be formed (no base image, or no name).
        """
        from flyte_models.errors import ImageBuildError

        if not self._is_cloned:
            if not self.base_image:
                raise ImageBuildError(
                    f"Image.base_image is {self.base_image!r}, so the image has no URI; pass a "
                    "full image URI such as <registry>/<name>:<tag>"
                )
            return self.base_image
        if not self.name:
            raise ImageBuildError(
                f"Image.name is {self.name!r}, so the URI cannot be formed; clone(name=...) first"
            )
        tag = self.identifier[:32]
        return f"{self.registry}/{self.name}:{tag}" if self.registry else f"{self.name}:{tag}"


def pixi_platforms_for(platforms: tuple[Architecture, ...]) -> tuple[str, ...]:
    """Map container platforms to conda platforms (`linux/amd64` -> `linux-64`).

    Args:
        platforms: The container platforms.

    Returns:
        The conda platforms.
    """
    return tuple(_PIXI_PLATFORMS[p] for p in _check_platform(platforms))
