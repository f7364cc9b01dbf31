"""Does an image exist already? The local image store (Docker SDK, podman CLI) and registries.

`RegistryChecker` asks the registry's API v2 (`HEAD /v2/<repo>/manifests/<tag>`) over httpx,
with the credentials of the Docker config (`$DOCKER_CONFIG/config.json`, else
`~/.docker/config.json`: `auths` entries, `credHelpers` and `credsStore` helpers). Registries on
loopback, and those listed in `FLYTE_INSECURE_REGISTRIES` (comma-separated `host[:port]`), are
spoken to over plain HTTP; every other one over HTTPS.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from flyte_models import Image

__all__ = [
    "DockerLocalChecker",
    "PodmanLocalChecker",
    "RegistryChecker",
    "docker_credentials",
    "split_reference",
]

ENV_INSECURE_REGISTRIES = "FLYTE_INSECURE_REGISTRIES"
DOCKER_HUB = "registry-1.docker.io"
_MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def split_reference(uri: str) -> tuple[str, str, str]:
    """Split `[host[:port]/]repo[:tag]` into `(registry host, repository, tag)`.

    Docker Hub names (no host part) map to `registry-1.docker.io` and `library/` for single names.

    Args:
        uri: The image reference.
    """
    ref = uri.split("@", 1)[0]
    name, tag = ref, "latest"
    slash = ref.rfind("/")
    if ":" in ref[slash + 1 :]:
        name, tag = ref.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest, tag
    return DOCKER_HUB, name if "/" in name else f"library/{name}", tag


def _is_insecure(host: str) -> bool:
    bare = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0][1:]
    if bare in ("localhost", "::1") or bare.startswith("127."):
        return True
    listed = [h.strip() for h in os.environ.get(ENV_INSECURE_REGISTRIES, "").split(",")]
    return host in listed or bare in listed


def _docker_config() -> dict[str, Any]:
    base = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    try:
        data = json.loads((Path(base) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def docker_credentials(host: str) -> tuple[str, str] | None:
    """`(user, password)` for a registry host from the Docker config, or None.

    Args:
        host: The registry host (`ghcr.io`, `127.0.0.1:5000`; Docker Hub: `registry-1.docker.io`).
    """
    config = _docker_config()
    keys = [host, f"https://{host}", f"http://{host}"]
    if host == DOCKER_HUB:
        keys += ["https://index.docker.io/v1/", "index.docker.io", "docker.io"]
    helper = None
    for key in keys:
        helper = (config.get("credHelpers") or {}).get(key)
        if helper:
            break
    helper = helper or config.get("credsStore")
    if helper:
        exe = shutil.which(f"docker-credential-{helper}")
        if exe:
            for key in keys:
                try:
                    out = subprocess.run(
                        [exe, "get"], input=key, capture_output=True, text=True, timeout=20
                    )
                except (OSError, subprocess.TimeoutExpired):
                    break
                if out.returncode == 0:
                    data = json.loads(out.stdout)
                    return str(data.get("Username", "")), str(data.get("Secret", ""))
    auths = config.get("auths") or {}
    for key in keys:
        entry = auths.get(key)
        if isinstance(entry, dict) and entry.get("auth"):
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            return user, password
    return None


class RegistryChecker:
    """Checks a registry for the image's manifest (API v2, token and basic auth)."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    async def image_exists(self, image: Image, uri: str) -> bool:
        """Whether the registry serves a manifest for `uri`.

        Args:
            image: The spec (unused; the URI says everything).
            uri: The image reference.

        Raises:
            httpx.HTTPError: The registry could not be reached (callers treat it as "unknown").
        """
        del image
        import httpx

        host, repo, tag = split_reference(uri)
        scheme = "http" if _is_insecure(host) else "https"
        url = f"{scheme}://{host}/v2/{repo}/manifests/{tag}"
        headers = {"Accept": _MANIFEST_TYPES}
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as client:
            resp = await client.head(url, headers=headers)
            if resp.status_code == 401:
                auth = await self._authorize(client, resp, host, repo)
                if auth is None:
                    return False
                resp = await client.head(url, headers={**headers, "Authorization": auth})
            if resp.status_code == 200:
                return True
            if resp.status_code in (401, 403, 404):
                return False
            resp.raise_for_status()
            return False

    async def _authorize(self, client: Any, resp: Any, host: str, repo: str) -> str | None:
        challenge = resp.headers.get("www-authenticate", "")
        creds = docker_credentials(host)
        if challenge.lower().startswith("basic"):
            if creds is None:
                return None
            return "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        realm = params.pop("realm", None)
        if not realm:
            return None
        params.setdefault("scope", f"repository:{repo}:pull")
        token_resp = await client.get(realm, params=params, auth=creds)
        if token_resp.status_code != 200:
            return None
        data = token_resp.json()
        token = data.get("token") or data.get("access_token")
        return f"Bearer {token}" if token else None


class DockerLocalChecker:
    """Checks the Docker daemon's image store (Docker SDK)."""

    async def image_exists(self, image: Image, uri: str) -> bool:
        """Whether the local daemon has `uri`.

        Args:
            image: The spec (unused).
            uri: The image reference.
        """
        del image

        def check() -> bool:
            import docker
            from docker.errors import ImageNotFound

            client = docker.from_env()
            try:
                client.images.get(uri)
                return True
            except ImageNotFound:
                return False
            finally:
                client.close()

        return await asyncio.to_thread(check)


class PodmanLocalChecker:
    """Checks podman's image store (`podman image exists`)."""

    async def image_exists(self, image: Image, uri: str) -> bool:
        """Whether podman has `uri` locally.

        Args:
            image: The spec (unused).
            uri: The image reference.
        """
        del image
        proc = await asyncio.create_subprocess_exec(
            "podman",
            "image",
            "exists",
            uri,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return await proc.wait() == 0
