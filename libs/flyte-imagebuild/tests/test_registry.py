"""The runtime's builder registry: flyte-imagebuild's builders, plugins, errors (no Docker)."""

from __future__ import annotations

import asyncio

import pytest

import flyte
import flyte_imagebuild
from flyte_imagebuild._remote import RemoteImageBuilder, is_devbox
from flyte_models import Image
from flyte_models.errors import ImageBuildError
from flyte_runtime import _images


class FakeBuilder:
    def __init__(self) -> None:
        self.built: list[str] = []

    async def build_image(
        self, image: Image, dry_run: bool = False, wait: bool = True, force: bool = False
    ) -> _images.ImageBuild:
        self.built.append(image.uri)
        return _images.ImageBuild(uri=image.uri, builder="fake")

    def get_checkers(self) -> list[_images.ImageChecker] | None:
        return None


def test_imagebuild_registers_its_builders_by_name() -> None:
    assert flyte_imagebuild.__name__
    assert type(_images.get_image_builder("local")).__name__ == "DockerImageBuilder"
    assert type(_images.get_image_builder("local-podman")).__name__ == "PodmanImageBuilder"
    assert type(_images.get_image_builder("remote")).__name__ == "RemoteImageBuilder"


def test_plugin_builder_is_used_and_results_are_remembered() -> None:
    fake = FakeBuilder()
    _images.register_image_builder("fake-plugin", lambda: fake)
    _images.clear_build_cache()
    image = (
        Image.from_base("r.example/b:1").clone(name="p", extendable=True).with_commands(["true"])
    )
    first = flyte.build(image, builder="fake-plugin")
    second = flyte.build(image, builder="fake-plugin")
    assert first.uri == second.uri == image.uri and fake.built == [image.uri]
    flyte.build(image, builder="fake-plugin", force=True)
    assert fake.built == [image.uri, image.uri]
    # an image used as is needs no builder at all
    plain = Image.from_base("r.example/b:1")
    assert flyte.build(plain, builder="no-such").uri == "r.example/b:1"


def test_unknown_builder_names_the_known_ones() -> None:
    image = (
        Image.from_base("r.example/b:1").clone(name="p", extendable=True).with_commands(["true"])
    )
    with pytest.raises(ImageBuildError, match="'nope' is not installed.*local"):
        flyte.build(image, builder="nope")


def test_build_images_maps_environments_including_dependencies() -> None:
    fake = FakeBuilder()
    _images.register_image_builder("fake-envs", fake)
    image = (
        Image.from_base("r.example/b:1").clone(name="e", extendable=True).with_commands(["true"])
    )
    dep = flyte.TaskEnvironment(name="dep-env", image="r.example/given:2")
    main = flyte.TaskEnvironment(name="main-env", image=image, depends_on=[dep])
    import os

    os.environ["FLYTE_IMAGE_BUILDER"] = "fake-envs"
    try:
        cache = flyte.build_images(main)
    finally:
        del os.environ["FLYTE_IMAGE_BUILDER"]
    assert cache.image_lookup == {"main-env": image.uri, "dep-env": "r.example/given:2"}
    assert _images.ImageCache.from_transport(cache.to_transport).image_lookup == cache.image_lookup


def test_remote_builder_on_a_devbox_uses_the_local_daemon_else_explains() -> None:
    assert is_devbox("dns:///127.0.0.1:8089") and is_devbox("localhost:30080")
    assert not is_devbox("dns:///flyte.example.com:443")
    image = (
        Image.from_base("r.example/b:1").clone(name="r", extendable=True).with_commands(["true"])
    )
    with pytest.raises(ImageBuildError, match="flyte.init"):
        asyncio.run(RemoteImageBuilder().build_image(image))
    result = asyncio.run(
        RemoteImageBuilder(progress=lambda _: None).build_image(image, dry_run=True)
    )
    assert result.dockerfile and result.builder == "remote"
