"""Container images for Flyte tasks: Dockerfiles, content-hash tags, local/podman/remote builders.

Importing this package registers its builders (`local`, `local-podman`, `remote`) with the
runtime's builder registry; installed wheels find them through the entry-point group
`flyte.plugins.image_builders` without an import. Everything heavy (the Docker SDK, httpx) loads
only when a build or check runs.

```python
import flyte

image = flyte.Image.from_base("python:3.12-slim").clone(name="app", registry="127.0.0.1:5000",
                                                          extendable=True).with_pip_packages("six")
print(flyte.build(image, dry_run=True).dockerfile)   # the Dockerfile only
print(flyte.build(image).uri)                        # built and pushed (skipped if it exists)
```
"""

from __future__ import annotations

import importlib
from typing import Any

from flyte_imagebuild._version import __version__
from flyte_runtime._images import register_image_builder

__all__ = [
    "BuildFailedError",
    "BuildPlan",
    "DockerImageBuilder",
    "DockerLocalChecker",
    "PodmanImageBuilder",
    "RegistryChecker",
    "RemoteImageBuilder",
    "__version__",
    "docker_credentials",
    "dockerfile",
    "render",
]

_LAZY = {
    "BuildFailedError": ("flyte_imagebuild.errors", "BuildFailedError"),
    "BuildPlan": ("flyte_imagebuild._dockerfile", "BuildPlan"),
    "render": ("flyte_imagebuild._dockerfile", "render"),
    "DockerImageBuilder": ("flyte_imagebuild._docker", "DockerImageBuilder"),
    "PodmanImageBuilder": ("flyte_imagebuild._docker", "PodmanImageBuilder"),
    "RemoteImageBuilder": ("flyte_imagebuild._remote", "RemoteImageBuilder"),
    "DockerLocalChecker": ("flyte_imagebuild._checkers", "DockerLocalChecker"),
    "RegistryChecker": ("flyte_imagebuild._checkers", "RegistryChecker"),
    "docker_credentials": ("flyte_imagebuild._checkers", "docker_credentials"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'flyte_imagebuild' has no attribute {name!r}")


def dockerfile(image: Any, *, buildkit: bool = True) -> str:
    """The Dockerfile `image` builds with (no Docker needed).

    Args:
        image: A `flyte.Image` spec.
        buildkit: Render for BuildKit (`RUN --mount`) rather than the classic builder.
    """
    from flyte_imagebuild._dockerfile import render

    return render(image, buildkit=buildkit).dockerfile


def local_builder() -> Any:
    """Entry point `local`: a Docker builder with the environment's configuration."""
    from flyte_imagebuild._docker import DockerImageBuilder

    return DockerImageBuilder()


def podman_builder() -> Any:
    """Entry point `local-podman`: a podman builder."""
    from flyte_imagebuild._docker import PodmanImageBuilder

    return PodmanImageBuilder()


def remote_builder() -> Any:
    """Entry point `remote`: the control plane's builder (the local daemon on a devbox)."""
    from flyte_imagebuild._remote import RemoteImageBuilder

    return RemoteImageBuilder()


register_image_builder("local", local_builder)
register_image_builder("local-podman", podman_builder)
register_image_builder("remote", remote_builder)
