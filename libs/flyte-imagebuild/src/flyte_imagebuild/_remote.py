"""The `remote` builder: images through the control plane.

Existence is asked of the control plane's `ImageService.GetImage` (by image name and tag).
On a devbox (a control plane on loopback), the devbox builds with the local Docker daemon: this
builder delegates to `local`. Starting a build job on a remote cluster needs the control plane's
image-builder task, which this SDK does not start yet: building there raises an
`ImageBuildError` that says so (build with `local` and push to a registry the cluster pulls from).
"""

from __future__ import annotations

from typing import Any

from flyte_imagebuild._docker import DockerImageBuilder
from flyte_imagebuild.errors import ImageBuildError
from flyte_models import Image
from flyte_runtime._images import ImageBuild, ImageChecker

__all__ = ["RemoteImageBuilder"]

_LOOPBACK = ("127.", "localhost", "[::1]", "::1")


def _settings() -> Any:
    from flyte_runtime import _remote_run

    return _remote_run.current_settings()


def _host(endpoint: str) -> str:
    target = endpoint.split("://", 1)[-1].lstrip("/")
    return target


def is_devbox(endpoint: str | None) -> bool:
    """Whether `endpoint` is a control plane on this machine (a devbox)."""
    return bool(endpoint) and _host(str(endpoint)).startswith(_LOOPBACK)


class _ImageServiceChecker:
    async def image_exists(self, image: Image, uri: str) -> bool:
        settings = _settings()
        if settings is None:
            return False
        from flyteidl2.imagebuilder import definition_pb2, payload_pb2

        from flyte_client import ClientSet

        clients = ClientSet.for_endpoint(settings.endpoint, insecure=settings.insecure)
        try:
            resp = await clients.image_service.GetImage(
                payload_pb2.GetImageRequest(
                    id=definition_pb2.ImageIdentifier(name=uri.rsplit("/", 1)[-1]),
                    organization=settings.org,
                    project_id=None,
                )
            )
        finally:
            await clients.close()
        return bool(resp.image.fqin)


class RemoteImageBuilder:
    """Builds through the control plane (the local daemon when the control plane is a devbox).

    Args:
        **local_options: Options for the local builder used on a devbox.
    """

    name = "remote"

    def __init__(self, **local_options: Any) -> None:
        self._local = DockerImageBuilder(**local_options)

    def get_checkers(self) -> list[ImageChecker] | None:
        """The local checks on a devbox, else the control plane's ImageService."""
        settings = _settings()
        if settings is None or is_devbox(settings.endpoint):
            return self._local.get_checkers()
        return [_ImageServiceChecker()]

    async def build_image(
        self, image: Image, dry_run: bool = False, wait: bool = True, force: bool = False
    ) -> ImageBuild:
        """Build `image` for the configured control plane.

        Raises:
            ImageBuildError: No control plane is configured, or it is not a devbox.
        """
        settings = _settings()
        if dry_run or (settings is not None and is_devbox(settings.endpoint)):
            result = await self._local.build_image(image, dry_run=dry_run, wait=wait, force=force)
            result.builder = self.name
            return result
        if settings is None:
            raise ImageBuildError(
                "the 'remote' image builder needs a control plane; call flyte.init(endpoint=...) "
                "first, or use image_builder='local'"
            )
        raise ImageBuildError(
            f"the control plane {settings.endpoint} would build {image.uri} with its image-builder "
            "task, which this SDK cannot start yet; build with image_builder='local' and a registry "
            "the cluster can pull from (Image.registry or FLYTE_IMAGE_REGISTRY)"
        )
