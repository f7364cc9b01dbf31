"""The `local` (Docker) and `local-podman` builders.

`local` builds with the buildx CLI (`docker buildx build`: BuildKit, `RUN --mount` cache, bind
and secret mounts, `--platform`, `--push`) and uses the Docker SDK for existence checks, pushes
of images that exist only locally, and the classic builder when buildx is missing. `local-podman`
builds with `podman build` and pushes with `podman push`.

Configuration (arguments win over the environment):

* `FLYTE_DOCKER_BUILD_NETWORK`: `--network` for build steps (e.g. `host` on machines without a
  bridge network).
* `FLYTE_DOCKER_BUILD_EXTRA_ARGS`: further `build` arguments (shell-split).
* `FLYTE_IMAGE_BUILD_PLATFORMS`: comma-separated platforms to build instead of the image's.
* `FLYTE_DOCKER_CLASSIC=1`: use the classic builder (Docker SDK) even when buildx exists.
* `DOCKER_HOST`, `DOCKER_CONFIG`: as for the docker CLI (the registry credentials too).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import platform as _platform
import re
import shlex
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from flyte_imagebuild._checkers import (
    DockerLocalChecker,
    PodmanLocalChecker,
    RegistryChecker,
    _is_insecure,
    split_reference,
)
from flyte_imagebuild._dockerfile import BuildPlan, render
from flyte_imagebuild.errors import BuildFailedError, ImageBuildError, ImageBuilderUnavailableError
from flyte_models import Image
from flyte_runtime._images import ImageBuild, ImageChecker

__all__ = ["DockerImageBuilder", "PodmanImageBuilder"]

_log = logging.getLogger("flyte.imagebuild")

ENV_NETWORK = "FLYTE_DOCKER_BUILD_NETWORK"
ENV_EXTRA_ARGS = "FLYTE_DOCKER_BUILD_EXTRA_ARGS"
ENV_PLATFORMS = "FLYTE_IMAGE_BUILD_PLATFORMS"
ENV_CLASSIC = "FLYTE_DOCKER_CLASSIC"


def native_platform() -> str:
    """The platform of this machine (`linux/amd64` or `linux/arm64`)."""
    machine = _platform.machine().lower()
    return "linux/arm64" if machine in ("arm64", "aarch64") else "linux/amd64"


class _PushingChecker:
    """Exists in the registry, or locally (then pushed there without a rebuild)."""

    def __init__(self, builder: DockerImageBuilder) -> None:
        self.builder = builder

    async def image_exists(self, image: Image, uri: str) -> bool:
        """Whether `uri` is available where it is needed (pushing a local copy if required)."""
        if image.registry:
            try:
                if await RegistryChecker().image_exists(image, uri):
                    return True
            except Exception as e:  # unreachable registry: build (and fail on push) below
                self.builder.progress(f"registry check for {uri} failed: {e}")
                return False
        try:
            local = await self.builder.local_checker().image_exists(image, uri)
        except Exception as e:
            self.builder.progress(f"local check for {uri} failed: {e}")
            return False
        if local and image.registry:
            self.builder.progress(f"{uri} exists locally; pushing it")
            await self.builder.push(uri)
        return local


class DockerImageBuilder:
    """Builds images with the local Docker daemon (buildx; the classic builder as fallback).

    Args:
        platforms: Platforms to build (default: the image's; the docker driver builds one, this
            machine's, when several are asked for).
        build_args: `--build-arg` values (the generated Dockerfile declares them as `ARG`).
        secrets: Build secrets by id: a file path, or `env:NAME` for an environment variable.
            Unlisted secrets come from the environment variable named after the secret
            (`Secret("my-token")` -> `MY_TOKEN`).
        network: `--network` for build steps (`FLYTE_DOCKER_BUILD_NETWORK`).
        extra_args: Further build arguments (`FLYTE_DOCKER_BUILD_EXTRA_ARGS`).
        push: Push after building (default: when the image has a registry).
        classic: Use the classic builder (default: only when buildx is missing).
        progress: Called with each progress line (default: the `flyte.imagebuild` logger).
        tail_lines: How many of the builder's last lines an error carries.
    """

    name = "local"
    cli = "docker"

    def __init__(
        self,
        *,
        platforms: Sequence[str] | None = None,
        build_args: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        network: str | None = None,
        extra_args: Sequence[str] | None = None,
        push: bool | None = None,
        classic: bool | None = None,
        progress: Callable[[str], None] | None = None,
        tail_lines: int = 40,
    ) -> None:
        env_platforms = [p for p in os.environ.get(ENV_PLATFORMS, "").split(",") if p]
        self.platforms = list(platforms or env_platforms) or None
        self.build_args = dict(build_args or {})
        self.secrets = dict(secrets or {})
        self.network = network if network is not None else os.environ.get(ENV_NETWORK) or None
        self.extra_args = list(extra_args or shlex.split(os.environ.get(ENV_EXTRA_ARGS, "")))
        self.push_after = push
        self.classic = classic
        self._progress = progress
        self.tail_lines = tail_lines

    # -- plumbing -----------------------------------------------------------------------------
    def progress(self, line: str) -> None:
        """Report one progress line."""
        if self._progress is not None:
            self._progress(line)
        else:
            _log.info("%s", line)

    def local_checker(self) -> ImageChecker:
        """The checker of the local image store."""
        return DockerLocalChecker()

    def get_checkers(self) -> list[ImageChecker] | None:
        """The registry (then local store, pushing a local copy) checker."""
        return [_PushingChecker(self)]

    def _ensure_daemon(self) -> None:
        if not shutil.which(self.cli):
            raise ImageBuilderUnavailableError(
                f"the {self.cli} CLI is not on PATH; install Docker (or use the 'remote' builder)"
            )
        try:
            import docker

            client = docker.from_env(timeout=10)
            try:
                client.ping()
            finally:
                client.close()
        except Exception as e:
            where = os.environ.get("DOCKER_HOST") or "the default socket"
            raise ImageBuilderUnavailableError(
                f"the Docker daemon at {where} is not reachable ({e}); start Docker or point "
                "DOCKER_HOST at a running daemon"
            ) from e

    async def _has_buildx(self) -> bool:
        if self.classic is not None:
            return not self.classic
        if os.environ.get(ENV_CLASSIC, "") in ("1", "true", "yes"):
            return False
        proc = await asyncio.create_subprocess_exec(
            self.cli,
            "buildx",
            "version",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await proc.wait() == 0

    def _platforms_for(self, image: Image) -> list[str]:
        wanted = self.platforms or list(image.platform)
        if len(wanted) > 1:
            native = native_platform()
            chosen = native if native in wanted else wanted[0]
            self.progress(
                f"building {chosen} only of {', '.join(wanted)}: the docker driver builds one "
                f"platform; pass platforms=[...] or set {ENV_PLATFORMS} to choose"
            )
            return [chosen]
        return wanted

    def _secret_args(self, plan: BuildPlan) -> list[str]:
        args: list[str] = []
        for mount in plan.secrets:
            source = self.secrets.get(mount.id)
            if source is not None and source.startswith("env:"):
                args += ["--secret", f"id={mount.id},env={source[4:]}"]
            elif source is not None:
                if not Path(source).is_file():
                    raise ImageBuildError(
                        f"build secret {mount.id!r}: the file {source!r} does not exist"
                    )
                args += ["--secret", f"id={mount.id},src={source}"]
            elif mount.env_var in os.environ:
                args += ["--secret", f"id={mount.id},env={mount.env_var}"]
            else:
                raise ImageBuildError(
                    f"build secret {mount.id!r} has no value: set the environment variable "
                    f"{mount.env_var} or pass secrets={{{mount.id!r}: '/path/to/file'}} to the builder"
                )
        return args

    async def _stream(self, argv: Sequence[str], uri: str) -> tuple[int, list[str]]:
        tail: collections.deque[str] = collections.deque(maxlen=self.tail_lines)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        assert proc.stdout is not None
        short = uri.rsplit("/", 1)[-1]
        async for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            if line:
                tail.append(line)
                self.progress(f"[{short}] {line}")
        return await proc.wait(), list(tail)

    def build_command(self, plan: BuildPlan, ctx: Path, uri: str, image: Image) -> list[str]:
        """The `docker buildx build` command line for a prepared context."""
        argv = [self.cli, "buildx", "build", "--progress", "plain", "-t", uri]
        argv += [
            "-f",
            str(ctx / "Dockerfile") if plan.context_dir is None else str(image.dockerfile),
        ]
        for p in self._platforms_for(image):
            argv += ["--platform", p]
        if self.network:
            argv += ["--network", self.network]
        for key, value in sorted(self.build_args.items()):
            argv += ["--build-arg", f"{key}={value}"]
        argv += self._secret_args(plan)
        argv += ["--push"] if self._should_push(image) else ["--load"]
        argv += self.extra_args
        argv.append(str(ctx))
        return argv

    def _should_push(self, image: Image) -> bool:
        return bool(image.registry) if self.push_after is None else self.push_after

    # -- build --------------------------------------------------------------------------------
    async def build_image(
        self, image: Image, dry_run: bool = False, wait: bool = True, force: bool = False
    ) -> ImageBuild:
        """Build (and push) `image`; a dry run only renders and prints its Dockerfile.

        Args:
            image: The spec.
            dry_run: Render only.
            wait: Ignored: local builds always finish before returning.
            force: Ignored here (the existence check is the caller's).

        Returns:
            The result (`dockerfile` is set).

        Raises:
            BuildFailedError: The build or push failed (with the builder's last lines).
            ImageBuilderUnavailableError: No daemon here.
        """
        del wait, force
        uri = image.uri
        buildkit = self.classic is not True and os.environ.get(ENV_CLASSIC, "") not in (
            "1",
            "true",
            "yes",
        )
        plan = render(image, buildkit=buildkit, build_args=self.build_args)
        if dry_run:
            self.progress(f"dry run: Dockerfile for {uri}:\n{plan.dockerfile}")
            return ImageBuild(uri=uri, dockerfile=plan.dockerfile, builder=self.name)
        await asyncio.to_thread(self._ensure_daemon)
        buildkit = await self._has_buildx()
        if not buildkit:
            plan = render(image, buildkit=False, build_args=self.build_args)
        with tempfile.TemporaryDirectory(prefix="flyte-imagebuild-") as tmp:
            ctx = Path(tmp)
            if plan.context_dir is not None:
                ctx = plan.context_dir
            else:
                plan.write_context(ctx)
            self.progress(f"building {uri} ({'buildx' if buildkit else 'classic builder'})")
            if buildkit:
                await self._build_buildx(plan, ctx, uri, image)
            else:
                await asyncio.to_thread(self._build_classic, plan, ctx, uri, image)
                if self._should_push(image):
                    await self.push(uri)
        self.progress(f"built {uri}")
        return ImageBuild(uri=uri, dockerfile=plan.dockerfile, builder=self.name)

    async def _build_buildx(self, plan: BuildPlan, ctx: Path, uri: str, image: Image) -> None:
        argv = self.build_command(plan, ctx, uri, image)
        code, tail = await self._stream(argv, uri)
        if code != 0:
            raise BuildFailedError(_failure_message(uri, code, tail, image), tail)

    def _build_classic(self, plan: BuildPlan, ctx: Path, uri: str, image: Image) -> None:
        import docker

        client = docker.from_env()
        tail: collections.deque[str] = collections.deque(maxlen=self.tail_lines)
        dockerfile = "Dockerfile" if plan.context_dir is None else str(image.dockerfile)
        try:
            for chunk in client.api.build(
                path=str(ctx),
                dockerfile=dockerfile,
                tag=uri,
                buildargs=self.build_args or None,
                platform=self._platforms_for(image)[0],
                network_mode=self.network,
                rm=True,
                decode=True,
            ):
                text = str(chunk.get("stream") or chunk.get("status") or "").rstrip()
                if text:
                    tail.extend(text.splitlines())
                    self.progress(f"[{uri.rsplit('/', 1)[-1]}] {text}")
                if "error" in chunk:
                    tail.append(str(chunk["error"]).rstrip())
                    raise BuildFailedError(_failure_message(uri, 1, list(tail), image), list(tail))
        finally:
            client.close()

    async def push(self, uri: str) -> None:
        """Push a local image to its registry (Docker SDK)."""

        def do_push() -> None:
            import docker

            client = docker.from_env()
            repo, _, tag = uri.rpartition(":")
            tail: collections.deque[str] = collections.deque(maxlen=self.tail_lines)
            try:
                for chunk in client.api.push(repo, tag=tag, stream=True, decode=True):
                    status = str(chunk.get("status") or "")
                    if status:
                        tail.append(status)
                    if "error" in chunk:
                        tail.append(str(chunk["error"]))
                        raise BuildFailedError(
                            f"pushing {uri} failed: {chunk['error']}; check that the registry "
                            "is reachable and that you are logged in (docker login)",
                            list(tail),
                        )
            except BuildFailedError:
                raise
            except Exception as e:
                raise BuildFailedError(f"pushing {uri} failed: {e}", list(tail)) from e
            finally:
                client.close()

        await asyncio.to_thread(do_push)


def _failure_message(uri: str, code: int, tail: Sequence[str], image: Image) -> str:
    text = "\n".join(tail).lower()
    host = split_reference(uri)[0]
    if "push" in text and any(
        s in text for s in ("connection refused", "no such host", "i/o timeout", "dial tcp")
    ):
        return (
            f"building {uri} succeeded but pushing to {host} failed (exit {code}): the registry "
            "is unreachable; start it or fix Image.registry / FLYTE_IMAGE_REGISTRY"
        )
    if any(s in text for s in ("unauthorized", "denied", "authentication required")):
        return (
            f"building {uri} failed (exit {code}): the registry refused access; log in with "
            f"`docker login {host}` (credentials go to the Docker config)"
        )
    base = image.base_image or ""
    if (
        base
        and ("not found" in text or "failed to resolve source metadata" in text)
        and base in "\n".join(tail)
    ):
        return (
            f"building {uri} failed (exit {code}): the base image {base!r} was not found; check "
            "the name, or set FLYTE_DEFAULT_BASE_IMAGE to a base you can pull"
        )
    joined = "\n".join(tail)
    step = re.search(r"executor failed running \[(.*?)\]: exit code: (\d+)", joined) or re.search(
        r'process "(.*?)" did not complete successfully: exit code: (\d+)', joined
    )
    if step:
        return (
            f"building {uri} failed: the step `{step.group(1)}` exited with code {step.group(2)}; "
            "its output is in the builder's last lines below"
        )
    return f"building {uri} failed (exit {code}); the builder's last lines follow"


class PodmanImageBuilder(DockerImageBuilder):
    """Builds images with podman (`podman build`, `podman push`). Same arguments as `local`."""

    name = "local-podman"
    cli = "podman"

    def local_checker(self) -> ImageChecker:
        """The checker of podman's image store."""
        return PodmanLocalChecker()

    def _ensure_daemon(self) -> None:
        if not shutil.which("podman"):
            raise ImageBuilderUnavailableError(
                "podman is not on PATH; install it (apt-get install podman) or use the 'local' builder"
            )

    async def _has_buildx(self) -> bool:
        return True  # podman's build (buildah) understands RUN --mount

    def _platforms_for(self, image: Image) -> list[str]:
        return self.platforms or list(image.platform)

    def build_command(self, plan: BuildPlan, ctx: Path, uri: str, image: Image) -> list[str]:
        """The `podman build` command line (multi-platform builds make a manifest list)."""
        argv = ["podman", "build", "--layers", "-f"]
        argv.append(str(ctx / "Dockerfile") if plan.context_dir is None else str(image.dockerfile))
        platforms = self._platforms_for(image)
        argv += ["--manifest", uri] if len(platforms) > 1 else ["-t", uri]
        argv += ["--platform", ",".join(platforms)]
        if self.network:
            argv += ["--network", self.network]
        for key, value in sorted(self.build_args.items()):
            argv += ["--build-arg", f"{key}={value}"]
        argv += self._secret_args(plan)
        argv += self.extra_args
        argv.append(str(ctx))
        return argv

    async def _build_buildx(self, plan: BuildPlan, ctx: Path, uri: str, image: Image) -> None:
        code, tail = await self._stream(self.build_command(plan, ctx, uri, image), uri)
        if code != 0:
            raise BuildFailedError(_failure_message(uri, code, tail, image), tail)
        if self._should_push(image):
            await self.push(uri)

    async def push(self, uri: str) -> None:
        """Push with `podman push` (plain HTTP for loopback/insecure registries)."""
        argv = ["podman", "push"]
        if _is_insecure(split_reference(uri)[0]):
            argv.append("--tls-verify=false")
        argv.append(uri)
        code, tail = await self._stream(argv, uri)
        if code != 0:
            raise BuildFailedError(
                f"pushing {uri} with podman failed (exit {code}); check the registry and "
                "`podman login`",
                tail,
            )
