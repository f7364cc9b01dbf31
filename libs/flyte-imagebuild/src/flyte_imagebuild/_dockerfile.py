"""`Image` spec -> Dockerfile and build context.

One Dockerfile step per layer (per `with_*` call), in the spec's order, each preceded by a
`# layer N: <Kind>` comment. The text depends only on the spec (files a layer copies go to
`_flyte/<N>/...` in the context), so the same spec renders the same Dockerfile anywhere; the tag
is the spec's content digest (`Image.uri`).

Python packages are installed with uv into the virtualenv `$VIRTUAL_ENV` (default `/opt/venv`),
with the interpreter of the base image (`UV_PYTHON_DOWNLOADS=never`: no download from GitHub).
The uv binary comes from the image `FLYTE_UV_IMAGE` (default `ghcr.io/astral-sh/uv:0.8.13`; a
mirror or a locally made image can stand in).

`buildkit=True` uses `RUN --mount` (cache, bind, secret); `buildkit=False` renders for the classic
builder: no cache mounts, `COPY` instead of bind mounts, and secrets are refused.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from flyte_imagebuild.errors import ImageBuildError
from flyte_models import Image, Secret
from flyte_models._image import (
    AptPackages,
    CodeBundleLayer,
    Commands,
    CopyConfig,
    DockerIgnore,
    Env,
    Layer,
    PipOption,
    PipPackages,
    PixiProject,
    PixiScript,
    PoetryProject,
    PythonWheels,
    Requirements,
    UVProject,
    UVScript,
    WorkDir,
)

__all__ = ["BuildPlan", "SecretMount", "render", "uv_image"]

ENV_UV_IMAGE = "FLYTE_UV_IMAGE"
DEFAULT_UV_IMAGE = "ghcr.io/astral-sh/uv:0.8.13"
CTX = "_flyte"
_UV_CACHE = "--mount=type=cache,target=/root/.cache/uv,id=flyte-uv,sharing=locked"
_ALWAYS_IGNORED = ("__pycache__", "*.pyc", ".git", ".DS_Store")


def uv_image() -> str:
    """The image uv is copied from (`FLYTE_UV_IMAGE`, default `ghcr.io/astral-sh/uv:0.8.13`)."""
    return os.environ.get(ENV_UV_IMAGE) or DEFAULT_UV_IMAGE


@dataclass(frozen=True)
class SecretMount:
    """A build secret: BuildKit id, the env var that provides it by default, file target."""

    id: str
    env_var: str
    target: str
    export_as: str | None


@dataclass
class BuildPlan:
    """What a build needs: the Dockerfile text, files for the context, secrets.

    `copies` are `(source, destination relative to the context, ignore patterns)`.
    """

    dockerfile: str
    copies: list[tuple[Path, str, tuple[str, ...]]] = field(default_factory=list)
    secrets: list[SecretMount] = field(default_factory=list)
    context_dir: Path | None = None  # from_dockerfile images: build in this directory

    def write_context(self, ctx: Path) -> None:
        """Write the Dockerfile and the copied files into the (empty) directory `ctx`."""
        ctx.mkdir(parents=True, exist_ok=True)
        (ctx / "Dockerfile").write_text(self.dockerfile, encoding="utf-8")
        for src, rel, patterns in self.copies:
            dst = ctx / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                _copy_tree(src, dst, patterns)
            else:
                shutil.copy2(src, dst)


# -- .dockerignore -----------------------------------------------------------------------------


def _read_patterns(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def ignored(rel: str, patterns: Sequence[str]) -> bool:
    """Whether the relative path `rel` is excluded by `.dockerignore` patterns (last match wins).

    Args:
        rel: A `/`-separated path relative to the copied directory.
        patterns: The patterns (`!` re-includes).
    """
    parts = rel.split("/")
    if any(fnmatch.fnmatch(p, pat) for p in parts for pat in _ALWAYS_IGNORED):
        return True
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for raw in patterns:
        negate = raw.startswith("!")
        pat = (raw[1:] if negate else raw).strip("/")
        if pat.startswith("**/"):
            pat_any = pat[3:]
            hit = any(fnmatch.fnmatch(p, pat_any) for p in prefixes) or any(
                fnmatch.fnmatch("/".join(parts[i:]), pat_any) for i in range(len(parts))
            )
        else:
            hit = any(fnmatch.fnmatch(p, pat) for p in prefixes)
        if hit:
            result = not negate
    return result


def _copy_tree(src: Path, dst: Path, patterns: tuple[str, ...]) -> None:
    all_patterns = (*patterns, *_read_patterns(src / ".dockerignore"))
    for root, dirs, files in os.walk(src):
        rel_root = Path(root).relative_to(src).as_posix()
        dirs.sort()
        for name in sorted(files):
            rel = name if rel_root == "." else f"{rel_root}/{name}"
            if ignored(rel, all_patterns):
                continue
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(Path(root) / name, target)
    dst.mkdir(parents=True, exist_ok=True)


# -- rendering ---------------------------------------------------------------------------------


def _q(value: str) -> str:
    return shlex.quote(value)


def _env_value(value: str) -> str:
    # Double quotes keep `$VAR` expansion (e.g. PATH=/opt/venv/bin:$PATH) and allow spaces.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _secret(item: str | Secret) -> SecretMount:
    secret = Secret(key=item) if isinstance(item, str) else item
    name = f"{secret.group}_{secret.key}" if secret.group else secret.key
    env_var = re.sub(r"[^A-Za-z0-9_]", "_", name).upper()
    sid = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    if secret.mount is not None:
        return SecretMount(sid, env_var, f"{secret.mount}/{secret.key}", None)
    return SecretMount(
        sid, secret.as_env_var or env_var, f"/run/secrets/{sid}", secret.as_env_var or env_var
    )


class _Renderer:
    def __init__(self, image: Image, buildkit: bool) -> None:
        self.image = image
        self.buildkit = buildkit
        self.lines: list[str] = []
        self.plan = BuildPlan(dockerfile="")
        self.patterns: tuple[str, ...] = ()

    # helpers -----------------------------------------------------------------------------------
    def run(
        self,
        command: str,
        *,
        cache: bool = False,
        binds: Sequence[tuple[str, str]] = (),
        secrets: Sequence[str | Secret] | None = None,
        rw: bool = False,
    ) -> None:
        """Emit a RUN step; `binds` are (context path, target) pairs."""
        mounts: list[str] = []
        prefix = ""
        if self.buildkit:
            if cache:
                mounts.append(_UV_CACHE)
            for src, target in binds:
                mounts.append(f"--mount=type=bind,src={src},target={target}{',rw' if rw else ''}")
        else:
            for src, target in binds:
                self.lines.append(f"COPY {src} {target}")
        exports = []
        for item in secrets or ():
            if not self.buildkit:
                raise ImageBuildError(
                    "secret mounts need BuildKit (docker buildx); install the buildx plugin or "
                    "drop secret_mounts from the image"
                )
            mount = _secret(item)
            if mount not in self.plan.secrets:
                self.plan.secrets.append(mount)
            mounts.append(f"--mount=type=secret,id={mount.id},target={mount.target},required=true")
            if mount.export_as:
                exports.append(f'export {mount.export_as}="$(cat {mount.target})"')
        if exports:
            prefix = " && ".join(exports) + " && "
        head = "RUN " + " \\\n    ".join([*mounts, ""]) if mounts else "RUN "
        self.lines.append(head + prefix + command)

    def uv_args(self, layer: PipOption) -> str:
        return " ".join(layer.get_pip_install_args())

    def copy_in(self, index: int, src: Path, name: str | None = None) -> str:
        rel = f"{CTX}/{index}/{name or src.name}"
        self.plan.copies.append((src, rel, self.patterns))
        return rel

    # layers ------------------------------------------------------------------------------------
    def layer(self, index: int, layer: Layer) -> None:
        self.lines.append(f"# layer {index}: {type(layer).__name__}")
        if isinstance(layer, Requirements):
            layer.validate()
            rel = self.copy_in(index, Path(layer.file), "requirements.txt")
            target = f"/tmp/flyte/{index}/requirements.txt"
            extra = " " + " ".join(_q(p) for p in layer.packages) if layer.packages else ""
            self.run(
                f'uv pip install --python "$UV_PYTHON" {self.uv_args(layer)} -r {target}{extra}'.replace(
                    "  ", " "
                ),
                cache=True,
                binds=[(rel, target)],
                secrets=layer.secret_mounts,
            )
        elif isinstance(layer, PipPackages):
            pkgs = " ".join(_q(p) for p in layer.packages or ())
            if not pkgs and not layer.extra_args:
                raise ImageBuildError(
                    f"layer {index} (with_pip_packages) names no packages; pass at least one"
                )
            cmd = f'uv pip install --python "$UV_PYTHON" {self.uv_args(layer)} {pkgs}'
            self.run(" ".join(cmd.split()), cache=True, secrets=layer.secret_mounts)
        elif isinstance(layer, PythonWheels):
            wheel_dir = Path(layer.wheel_dir)
            wheels = sorted(wheel_dir.glob("*.whl")) if wheel_dir.is_dir() else []
            if not wheels:
                raise ImageBuildError(
                    f"layer {index} installs {layer.package_name} from local wheels, but "
                    f"{str(wheel_dir)!r} has no .whl files; run `./pants package ::` (or set "
                    "FLYTE_LOCAL_WHEELS_DIR to a directory of flyte-* wheels)"
                )
            for wheel in wheels:
                self.plan.copies.append((wheel, f"{CTX}/{index}/wheels/{wheel.name}", ()))
            target = f"/tmp/flyte/{index}/wheels"
            cmd = (
                f'uv pip install --python "$UV_PYTHON" {self.uv_args(layer)} '
                f"--find-links {target} {_q(layer.package_name)}"
            )
            self.run(
                " ".join(cmd.split()),
                cache=True,
                binds=[(f"{CTX}/{index}/wheels", target)],
                secrets=layer.secret_mounts,
            )
        elif isinstance(layer, UVProject):
            self.uv_project(index, layer)
        elif isinstance(layer, UVScript):
            layer.validate()
            deps = _script_dependencies(Path(layer.script))
            if deps:
                cmd = f'uv pip install --python "$UV_PYTHON" {self.uv_args(layer)} ' + " ".join(
                    _q(d) for d in deps
                )
                self.run(" ".join(cmd.split()), cache=True, secrets=layer.secret_mounts)
            else:
                self.lines.append("# (the script declares no dependencies)")
        elif isinstance(layer, PoetryProject):
            self.poetry_project(index, layer)
        elif isinstance(layer, AptPackages):
            pkgs = " ".join(_q(p) for p in layer.packages)
            self.run(
                "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                f"--no-install-recommends {pkgs} && rm -rf /var/lib/apt/lists/*",
                secrets=layer.secret_mounts,
            )
        elif isinstance(layer, Commands):
            if not layer.commands:
                raise ImageBuildError(f"layer {index} (with_commands) has no commands")
            self.run(" && \\\n    ".join(layer.commands), secrets=layer.secret_mounts)
        elif isinstance(layer, WorkDir):
            self.lines.append(f"WORKDIR {layer.workdir}")
        elif isinstance(layer, Env):
            if layer.env_vars:
                self.lines.append(
                    "ENV " + " ".join(f"{k}={_env_value(v)}" for k, v in layer.env_vars)
                )
        elif isinstance(layer, DockerIgnore):
            path = Path(layer.path)
            if not path.is_file():
                raise ImageBuildError(
                    f"with_dockerignore({layer.path!r}): the file does not exist; create it or "
                    "drop the layer"
                )
            self.lines.append("# (its patterns apply to every copied directory)")
        elif isinstance(layer, CopyConfig):
            layer.validate()
            src = Path(layer.src)
            dst = layer.dst if layer.dst.endswith("/") else layer.dst + "/"
            if layer.path_type == 1:
                rel = self.copy_in(index, src, "tree")
                self.lines.append(f"COPY {rel}/ {dst}")
            else:
                rel = self.copy_in(index, src)
                self.lines.append(f"COPY {rel} {dst}")
        elif isinstance(layer, CodeBundleLayer):
            root = Path(layer.root_dir) if layer.root_dir is not None else Path.cwd()
            rel = self.copy_in(index, root, "code")
            dst = layer.dst if layer.dst.endswith("/") else layer.dst + "/"
            self.lines.append(f"COPY {rel}/ {dst}")
        elif isinstance(layer, PixiProject | PixiScript):
            raise ImageBuildError(
                f"layer {index} ({type(layer).__name__}): pixi environments are not supported by "
                "flyte-imagebuild yet; install the packages with with_pip_packages/with_apt_packages, "
                "or build from your own Dockerfile (Image.from_dockerfile)"
            )
        else:
            raise ImageBuildError(
                f"layer {index}: {type(layer).__name__} has no Dockerfile rendering; "
                "use the built-in with_* methods"
            )

    def uv_project(self, index: int, layer: UVProject) -> None:
        layer.validate()
        args = self.uv_args(layer)
        locked = "--locked " if layer.uvlock else ""
        if layer.project_install_mode == "install_project":
            rel = self.copy_in(index, Path(layer.pyproject).parent, "project")
            target = f"/root/.flyte/project{index}"
            self.lines.append(f"COPY {rel}/ {target}/")
            cmd = f"uv sync --active --inexact --no-editable {locked}{args} --project {target}"
            self.run(" ".join(cmd.split()), cache=True, secrets=layer.secret_mounts)
            return
        self.copy_in(index, Path(layer.pyproject), "project/pyproject.toml")
        if layer.uvlock:
            self.copy_in(index, Path(layer.uvlock), "project/uv.lock")
        target = f"/tmp/flyte/{index}/project"
        cmd = f"cd {target} && uv sync --active --inexact --no-install-project {locked}{args}"
        self.run(
            " ".join(cmd.split()),
            cache=True,
            binds=[(f"{CTX}/{index}/project", target)],
            secrets=layer.secret_mounts,
            rw=True,
        )

    def poetry_project(self, index: int, layer: PoetryProject) -> None:
        layer.validate()
        extra = layer.extra_args or ""
        if layer.project_install_mode == "install_project":
            rel = self.copy_in(index, Path(layer.pyproject).parent, "project")
            target = f"/root/.flyte/project{index}"
            self.lines.append(f"COPY {rel}/ {target}/")
            cmd = f"cd {target} && POETRY_VIRTUALENVS_CREATE=false uvx --from poetry poetry install {extra}"
            self.run(" ".join(cmd.split()), cache=True, secrets=layer.secret_mounts)
            return
        self.copy_in(index, Path(layer.pyproject), "project/pyproject.toml")
        self.copy_in(index, Path(layer.poetry_lock), "project/poetry.lock")
        target = f"/tmp/flyte/{index}/project"
        cmd = (
            f"cd {target} && POETRY_VIRTUALENVS_CREATE=false uvx --from poetry poetry install "
            f"--no-root {extra}"
        )
        self.run(
            " ".join(cmd.split()),
            cache=True,
            binds=[(f"{CTX}/{index}/project", target)],
            secrets=layer.secret_mounts,
            rw=True,
        )


def _script_dependencies(script: Path) -> list[str]:
    block: list[str] | None = None
    for line in script.read_text(encoding="utf-8").splitlines():
        if block is None:
            if line.strip() == "# /// script":
                block = []
        elif line.strip() == "# ///":
            data = tomllib.loads("\n".join(block))
            return [str(d) for d in data.get("dependencies", [])]
        else:
            block.append(line[2:] if line.startswith("# ") else line.lstrip("#"))
    return []


def render(
    image: Image,
    *,
    buildkit: bool = True,
    build_args: Mapping[str, str] | None = None,
) -> BuildPlan:
    """Turn an image spec into a Dockerfile and the list of files its context needs.

    Args:
        image: The spec (layers are validated: missing files raise here).
        buildkit: Render `RUN --mount` steps (False: for the classic builder).
        build_args: Names declared as `ARG` after `FROM` (values are passed by the builder).

    Returns:
        The build plan.

    Raises:
        ImageBuildError: For a spec that cannot be rendered (no base, an unsupported layer,
            missing files).
    """
    if image.dockerfile:
        path = Path(image.dockerfile)
        if not path.is_file():
            raise ImageBuildError(
                f"Image.dockerfile {str(path)!r} does not exist; pass an existing Dockerfile path"
            )
        return BuildPlan(dockerfile=path.read_text(encoding="utf-8"), context_dir=path.parent)
    if not image.base_image:
        ref = f" (from_ref_name({image.ref_name!r}))" if image.ref_name else ""
        raise ImageBuildError(
            f"image {image.name!r}{ref} has no base image to build from; give a base with "
            "Image.from_base(...)/from_debian_base(), or map the reference to a URI with "
            "flyte.init(images={...})"
        )
    py = f"{image.python_version[0]}.{image.python_version[1]}"
    r = _Renderer(image, buildkit)
    r.lines += [
        f"# Generated by flyte-imagebuild for {image.name or 'image'} (spec {image.identifier[:32]})",
        f"FROM {uv_image()} AS uv",
        f"FROM {image.base_image}",
        "USER root",
        "COPY --from=uv /uv /usr/bin/uv",
    ]
    for name in sorted(build_args or {}):
        r.lines.append(f"ARG {name}")
    r.lines += [
        "ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never \\\n"
        "    VIRTUAL_ENV=/opt/venv UV_PYTHON=/opt/venv/bin/python",
        f'RUN [ -x "$UV_PYTHON" ] || uv venv "$VIRTUAL_ENV" --python {py}',
        'ENV PATH="/opt/venv/bin:$PATH"',
    ]
    # As for Image.identifier: the last .dockerignore applies to every directory a layer copies.
    for layer in image.layers:
        if isinstance(layer, DockerIgnore) and Path(layer.path).is_file():
            r.patterns = tuple(_read_patterns(Path(layer.path)))
    for index, layer in enumerate(image.layers):
        r.layer(index, layer)
    r.lines.append(f'LABEL org.flyte.image.identifier="{image.identifier}"')
    r.plan.dockerfile = "\n".join(r.lines) + "\n"
    return r.plan
