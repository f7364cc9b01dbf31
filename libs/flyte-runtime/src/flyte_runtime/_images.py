"""Image builds for remote runs and deploys, through a registry of image builders.

The runtime never imports an image builder. Builders (flyte-imagebuild's `local`,
`local-podman` and `remote`, or a plugin) are found by name:

1. builders registered in this process with `register_image_builder(name, factory)`;
2. entry points of the group `flyte.plugins.image_builders` (the reference SDK's group name):
   the entry point's object is a builder, or a callable returning one;
3. in a source checkout without installed metadata, flyte-imagebuild's module (looked up by
   name, only for its three builder names) registers itself on import.

The builder name comes from the call, else `flyte.init(image_builder=...)`, else the
`FLYTE_IMAGE_BUILDER` environment variable, else `local`. With no builder installed, an image is
used by its URI (`Image.uri`), unbuilt: that suits a URI given by the user. Remote runs against a
devbox (a control plane on loopback, which runs actions as processes) do not build either, unless
`FLYTE_DEVBOX_BUILD_IMAGES=1` (a devbox told to run actions in containers).

`build(image)` checks first whether the image exists (the builder's checkers: the local image
store, the registry), builds only when it does not, and remembers the result for the process.
"""

from __future__ import annotations

import base64
import gzip
import importlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Union, runtime_checkable

from flyte_models import Image, syncify
from flyte_models.errors import ImageBuildError

if TYPE_CHECKING:
    from flyte_models import Environment

__all__ = [
    "ENTRY_POINT_GROUP",
    "ImageBuild",
    "ImageBuilder",
    "ImageBuilderUnavailableError",
    "ImageCache",
    "ImageChecker",
    "available_image_builders",
    "build",
    "build_images",
    "clear_build_cache",
    "get_image_builder",
    "register_image_builder",
    "resolve_image_uri",
]

_log = logging.getLogger("flyte")

ENTRY_POINT_GROUP = "flyte.plugins.image_builders"
ENV_IMAGE_BUILDER = "FLYTE_IMAGE_BUILDER"
DEFAULT_BUILDER = "local"
ENV_DEVBOX_BUILD = "FLYTE_DEVBOX_BUILD_IMAGES"
# Source checkouts have no installed entry points: these names map to the module that registers
# them on import (the same builders the flyte-imagebuild wheel declares as entry points).
_SOURCE_FALLBACK = {
    "local": "flyte_imagebuild",
    "local-podman": "flyte_imagebuild",
    "remote": "flyte_imagebuild",
}


@dataclass
class ImageBuild:
    """The result of `flyte.build`.

    Args:
        uri: The image URI (None when a build was started without waiting).
        remote_run: The run of a remote build job, if the builder started one.
        build_run: Identifier data of that run.
        skipped: True when the image already existed and nothing was built.
        dockerfile: The Dockerfile the builder used or would use (dry runs print it too).
        builder: The builder's name.
    """

    uri: str | None
    remote_run: Any = None
    build_run: Any = None
    skipped: bool = False
    dockerfile: str | None = None
    builder: str | None = None


@dataclass
class ImageCache:
    """Built image URIs by environment name, as `flyte.build_images` returns them.

    Args:
        image_lookup: `{environment name: image URI}`.
        build_run_ids: Remote build runs by environment name (remote builder only).
    """

    image_lookup: dict[str, str] = field(default_factory=dict)
    build_run_ids: dict[str, Any] = field(default_factory=dict)

    @property
    def to_transport(self) -> str:
        """The lookup as base64 of gzipped JSON (how tasks receive it)."""
        raw = json.dumps({"image_lookup": self.image_lookup}, sort_keys=True).encode()
        return base64.b64encode(gzip.compress(raw, mtime=0)).decode()

    @classmethod
    def from_transport(cls, text: str) -> ImageCache:
        """Decode `to_transport`'s form.

        Args:
            text: The encoded lookup.

        Returns:
            The cache.
        """
        data = json.loads(gzip.decompress(base64.b64decode(text)))
        return cls(image_lookup=dict(data.get("image_lookup", {})))

    def repr(self) -> list[list[tuple[str, str]]]:
        """Rows of `(label, value)` pairs, one per environment."""
        return [[("Name", k), ("image", v)] for k, v in self.image_lookup.items()]


@runtime_checkable
class ImageChecker(Protocol):
    """Answers whether an image already exists somewhere (local store, registry)."""

    async def image_exists(self, image: Image, uri: str) -> bool:
        """Whether `uri` (the image's URI) exists where this checker looks."""
        ...


@runtime_checkable
class ImageBuilder(Protocol):
    """Builds images; registered by name (see the module documentation)."""

    async def build_image(
        self, image: Image, dry_run: bool = False, wait: bool = True, force: bool = False
    ) -> ImageBuild:
        """Build `image` (or, for `dry_run`, only produce its Dockerfile)."""
        ...

    def get_checkers(self) -> list[ImageChecker] | None:
        """The checkers consulted before a build (None: always build)."""
        ...


class ImageBuilderUnavailableError(ImageBuildError):
    """The builder cannot work here (no Docker daemon, no podman, no control plane).

    Args:
        message: What is missing and how to provide it.
    """

    CODE = "ImageBuilderUnavailable"


BuilderFactory = Union[ImageBuilder, Callable[[], ImageBuilder]]
_REGISTRY: dict[str, BuilderFactory] = {}
_INSTANCES: dict[str, ImageBuilder] = {}
_RESULTS: dict[tuple[str, str], ImageBuild] = {}


def register_image_builder(name: str, builder: BuilderFactory) -> None:
    """Register an image builder under `name` (replacing an earlier one of that name).

    Args:
        name: The builder name (`local`, `remote`, or a plugin's own).
        builder: A builder object, or a callable (class) that returns one.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty str, got {name!r}")
    _REGISTRY[name] = builder
    _INSTANCES.pop(name, None)


def _entry_points() -> list[Any]:
    from importlib.metadata import entry_points

    return list(entry_points(group=ENTRY_POINT_GROUP))


def available_image_builders() -> list[str]:
    """The names of the registered and installed builders, sorted."""
    names = set(_REGISTRY)
    names.update(ep.name for ep in _entry_points())
    return sorted(names)


def _default_builder_name() -> str:
    try:
        from flyte_runtime._run import _CONFIG

        configured = _CONFIG.extra.get("image_builder")
    except Exception:  # pragma: no cover - the runtime is importable wherever this module is
        configured = None
    return str(os.environ.get(ENV_IMAGE_BUILDER) or configured or DEFAULT_BUILDER)


def get_image_builder(name: str | None = None) -> ImageBuilder:
    """The builder called `name` (default: configured, else `local`).

    Args:
        name: The builder name.

    Returns:
        The builder.

    Raises:
        ImageBuildError: When no builder of that name is registered or installed.
    """
    name = name or _default_builder_name()
    if name in _INSTANCES:
        return _INSTANCES[name]
    if name not in _REGISTRY:
        for ep in _entry_points():
            if ep.name == name:
                try:
                    _REGISTRY[name] = ep.load()
                except Exception as e:
                    raise ImageBuildError(
                        f"image builder {name!r} (entry point {ep.value}) failed to load: {e}"
                    ) from e
                break
    if name not in _REGISTRY and name in _SOURCE_FALLBACK:
        try:
            importlib.import_module(_SOURCE_FALLBACK[name])
        except ImportError:
            pass
    if name not in _REGISTRY:
        known = available_image_builders()
        raise ImageBuildError(
            f"image builder {name!r} is not installed (known: {known or 'none'}); install "
            "flyte-imagebuild (`pip install flyte`) for 'local'/'local-podman'/'remote', or a plugin "
            f"that declares an entry point in the group {ENTRY_POINT_GROUP!r}"
        )
    factory = _REGISTRY[name]
    if isinstance(factory, type) or not hasattr(factory, "build_image"):
        builder: ImageBuilder = factory()  # type: ignore[operator]
    else:
        builder = factory  # type: ignore[assignment]
    _INSTANCES[name] = builder
    return builder


def clear_build_cache() -> None:
    """Forget the build results this process remembered (the next build checks again)."""
    _RESULTS.clear()


async def _exists(builder: ImageBuilder, image: Image, uri: str) -> bool:
    for checker in builder.get_checkers() or []:
        try:
            if await checker.image_exists(image, uri):
                return True
        except Exception as e:  # a failing check means "unknown": build
            _log.info("image check %s for %s failed: %s", type(checker).__name__, uri, e)
    return False


async def _build(
    image: Image,
    *,
    builder: str | ImageBuilder | None = None,
    dry_run: bool = False,
    force: bool = False,
    wait: bool = True,
) -> ImageBuild:
    if not isinstance(image, Image):
        raise TypeError(f"image must be a flyte.Image, got {image!r}")
    if not image.is_cloned and not image.dockerfile:
        # An image used as is (Image.from_base("repo/x:1")): nothing to build.
        return ImageBuild(uri=image.uri, skipped=True)
    impl = builder if builder is not None and not isinstance(builder, str) else None
    name = builder if isinstance(builder, str) else None
    if impl is None:
        name = name or _default_builder_name()
        impl = get_image_builder(name)
    uri = image.uri
    key = (name or type(impl).__name__, uri)
    if not (dry_run or force) and key in _RESULTS:
        return _RESULTS[key]
    if not (dry_run or force) and await _exists(impl, image, uri):
        _log.info("image %s exists; build skipped", uri)
        result = ImageBuild(uri=uri, skipped=True, builder=name)
        _RESULTS[key] = result
        return result
    result = await impl.build_image(image, dry_run=dry_run, wait=wait, force=force)
    if not dry_run and wait and result.uri:
        _RESULTS[key] = result
    return result


@syncify
async def build(
    image: Image,
    dry_run: bool = False,
    force: bool = False,
    wait: bool = True,
    *,
    builder: str | ImageBuilder | None = None,
) -> ImageBuild:
    """Build an image unless it already exists (`flyte.build`).

    Args:
        image: The image spec.
        dry_run: Only produce the Dockerfile (printed and returned in `ImageBuild.dockerfile`).
        force: Build even if the image exists.
        wait: Wait for the build (remote builds may return early).
        builder: The builder name or object (default: configured, else `local`).

    Returns:
        The image's URI and how it was obtained.

    Raises:
        ImageBuildError: The build failed (the message carries the builder's last log lines).
    """
    return await _build(image, builder=builder, dry_run=dry_run, force=force, wait=wait)


def _plan(envs: Iterable[Environment]) -> list[Environment]:
    seen: dict[str, Environment] = {}
    stack = list(envs)
    while stack:
        env = stack.pop(0)
        if env.name in seen:
            continue
        seen[env.name] = env
        stack.extend(getattr(env, "depends_on", None) or [])
    return list(seen.values())


@syncify
async def build_images(
    *envs: Environment,
    copy_style: str = "loaded_modules",
    seed_cache: ImageCache | None = None,
) -> ImageCache:
    """Build the images of environments (and those they depend on) (`flyte.build_images`).

    Args:
        *envs: The environments.
        copy_style: The code-bundle style the later deploy uses (kept for signature parity; the
            image tag does not depend on it here).
        seed_cache: URIs already known, by environment name: those are not built again.

    Returns:
        The image URI of every environment.
    """
    del copy_style
    cache = ImageCache(image_lookup=dict(seed_cache.image_lookup) if seed_cache else {})
    for env in _plan(envs):
        if env.name in cache.image_lookup:
            continue
        image = env.image
        if isinstance(image, str) and image != "auto":
            cache.image_lookup[env.name] = image
            continue
        spec = image if isinstance(image, Image) else Image.from_debian_base()
        result = await _build(spec)
        if result.uri:
            cache.image_lookup[env.name] = result.uri
        if result.build_run is not None:
            cache.build_run_ids[env.name] = result.build_run
    return cache


def _devbox_skips_build() -> bool:
    """A devbox (control plane on loopback) runs actions as local processes: no image needed.

    `FLYTE_DEVBOX_BUILD_IMAGES=1` builds anyway (a devbox told to run actions in containers).
    """
    if os.environ.get(ENV_DEVBOX_BUILD, "").lower() in ("1", "true", "yes"):
        return False
    try:
        from flyte_runtime import _remote_run

        settings = _remote_run.current_settings()
    except Exception:
        return False
    endpoint = str(getattr(settings, "endpoint", "") or "")
    host = endpoint.split("://", 1)[-1].lstrip("/")
    return host.startswith(("127.", "localhost", "[::1]"))


async def resolve_image_uri(image: Image | str | None, *, build: bool = True) -> str:
    """The URI a task's container uses for `image` (built first when a builder is installed).

    A builder that cannot work here (no Docker daemon, say) is logged and the URI is used unbuilt;
    a build that fails raises. A devbox control plane (on loopback) runs actions as processes, so
    nothing is built for it unless `FLYTE_DEVBOX_BUILD_IMAGES=1`.

    Args:
        image: The environment's image: an `Image` spec, a URI, or None for the default image.
        build: Build images that need it (False: only compute their URIs).
    """
    if isinstance(image, str):
        return image
    spec: Any = image if image is not None else Image.from_debian_base()
    if not build or (not spec.is_cloned and not spec.dockerfile) or _devbox_skips_build():
        return str(spec.uri)
    try:
        get_image_builder()
    except ImageBuildError as e:
        _log.debug("no image builder (%s); using %s unbuilt", e, spec.uri)
        return str(spec.uri)
    try:
        result = await _build(spec)
    except ImageBuilderUnavailableError as e:
        _log.warning("image %s not built: %s", spec.uri, e)
        return str(spec.uri)
    return str(result.uri or spec.uri)
