"""Container images for Flyte tasks: Dockerfiles, content-hash tags, local/podman/remote builders."""

from flyte_imagebuild._version import __version__

__all__ = ["__version__"]
