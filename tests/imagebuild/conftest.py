"""Fixtures for image builds against a real Docker daemon, BuildKit (buildx) and OCI registry.

`scripts/services/install.sh docker && scripts/services/start.sh docker` start them on loopback
and write `$FLYTE_SERVICES_ROOT/env.docker`. The file is found through `FLYTE_TEST_DOCKER_ENV`,
else next to `FLYTE_TEST_SERVICES_ENV`, else under `FLYTE_SERVICES_ROOT` (default
/tmp/flyte-services). Without it every test here is skipped with that instruction; with it, a
daemon that does not answer is a failure, not a skip.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HOW = (
    "the Docker services are not running: scripts/services/install.sh docker && "
    "scripts/services/start.sh docker (then FLYTE_TEST_DOCKER_ENV=$FLYTE_SERVICES_ROOT/env.docker)"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.services)


def env_file() -> Path | None:
    candidates = [os.environ.get("FLYTE_TEST_DOCKER_ENV")]
    services = os.environ.get("FLYTE_TEST_SERVICES_ENV")
    if services:
        candidates.append(str(Path(services).parent / "env.docker"))
    candidates.append(
        str(Path(os.environ.get("FLYTE_SERVICES_ROOT", "/tmp/flyte-services")) / "env.docker")
    )
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def parse_env_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        parts = shlex.split(value) if value else [""]
        out[key.strip()] = parts[0] if parts else ""
    return out


@dataclass
class Docker:
    """The running services: registry address, base images, and helpers."""

    env: dict[str, str]
    registry: str
    base: str
    progress: list[str] = field(default_factory=list)

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", *argv], capture_output=True, text=True, check=check, timeout=300
        )

    def has_local(self, uri: str) -> bool:
        return self.run("image", "inspect", uri, check=False).returncode == 0

    def unique(self) -> str:
        return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def docker_services() -> Iterator[Docker]:
    path = env_file()
    if path is None:
        pytest.skip(HOW)
    values = parse_env_file(path)
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        ping = subprocess.run(
            ["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True
        )
        assert ping.returncode == 0, f"the Docker daemon of {path} does not answer: {ping.stderr}"
        yield Docker(
            env=values, registry=values["FLYTE_TEST_REGISTRY"], base=values["FLYTE_TEST_BASE_IMAGE"]
        )
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def docker(docker_services: Docker) -> Iterator[Docker]:
    from flyte_runtime import _images

    docker_services.progress = []
    _images.clear_build_cache()  # each test starts without the process's build results
    yield docker_services
