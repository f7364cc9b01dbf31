"""`upload_file` / `upload_dir`: put local data in the control plane's blob store through signed
URLs (`DataProxyService.CreateUploadLocation`, then an HTTP PUT)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import uuid
from datetime import timedelta
from pathlib import Path

from flyte_client.remote import _client
from flyte_client.remote._errors import translate
from flyte_models import errors as ferr
from flyte_models import syncify

__all__ = ["upload_dir", "upload_file"]

_EXPIRES = timedelta(minutes=10)
_RETRIES = 3
_CHUNK = 1 << 20


def _md5(path: Path) -> bytes:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.digest()


async def _upload_one(
    path: Path, *, verify: bool, fname: str | None, root: str, content_type: str | None
) -> tuple[str, str]:
    import httpx
    from flyteidl2.dataproxy import dataproxy_service_pb2
    from google.protobuf import duration_pb2

    org, project, domain = _client._scope()
    digest = await asyncio.to_thread(_md5, path)
    expires = duration_pb2.Duration()
    expires.FromTimedelta(_EXPIRES)
    size = path.stat().st_size
    try:
        loc = await _client._clients().dataproxy_service.CreateUploadLocation(
            dataproxy_service_pb2.CreateUploadLocationRequest(
                project=project,
                domain=domain,
                org=org,
                filename=fname or path.name,
                filename_root=root,
                content_md5=digest,
                expires_in=expires,
                add_content_md5_metadata=True,
                content_length=size,
            )
        )
    except Exception as exc:
        raise translate(exc, f"get an upload location for {path} in {project}/{domain}") from exc
    headers = dict(loc.headers)
    headers["Content-MD5"] = base64.b64encode(digest).decode()
    headers["Content-Length"] = str(size)
    if loc.native_url.startswith("abfs://"):
        headers["x-ms-blob-type"] = "BlockBlob"
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = content_type
    delay = 0.5
    for attempt in range(_RETRIES + 1):
        try:
            data = await asyncio.to_thread(path.read_bytes)
            async with httpx.AsyncClient(verify=verify, timeout=600) as http:
                resp = await http.put(loc.signed_url, content=data, headers=headers)
        except (httpx.TransportError, OSError) as exc:
            if attempt == _RETRIES:
                raise ferr.RuntimeSystemError(
                    "UploadFailed", f"Uploading {path} failed after {attempt} retries: {exc}"
                ) from exc
        else:
            if resp.status_code in (200, 201, 204):
                return digest.hex(), str(loc.native_url)
            if resp.status_code not in (408, 429, 500, 502, 503, 504) or attempt == _RETRIES:
                where = loc.signed_url.partition("?")[0]
                raise ferr.RuntimeSystemError(
                    "UploadFailed",
                    f"Uploading {path} to {where} failed with HTTP {resp.status_code}: "
                    f"{resp.text[:500]}",
                )
        await asyncio.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


@syncify
async def upload_file(
    fp: Path, verify: bool = True, fname: str | None = None, content_type: str | None = None
) -> tuple[str, str]:
    """Upload one file; returns `(md5 hex digest, remote native URL)`.

    Raises:
        ValueError: If `fp` is not a file.
    """
    fp = Path(fp)
    if not fp.is_file():
        raise ValueError(f"{fp} is not a file; upload_file uploads one file (upload_dir: folders)")
    return await _upload_one(fp, verify=verify, fname=fname, root="", content_type=content_type)


@syncify
async def upload_dir(dir_path: Path, verify: bool = True, prefix: str | None = None) -> str:
    """Upload a directory (keeping its layout) under `prefix` (random by default); returns the
    remote URI of the directory.

    Raises:
        ValueError: If `dir_path` is not a directory, or holds no files.
    """
    dir_path = Path(dir_path)
    if not dir_path.is_dir():
        raise ValueError(f"{dir_path} is not a directory")
    prefix = (prefix or uuid.uuid4().hex).strip("/")
    files = sorted(p for p in dir_path.rglob("*") if p.is_file())
    if not files:
        raise ValueError(f"{dir_path} holds no files to upload")

    def root_of(p: Path) -> str:
        parent = p.parent.relative_to(dir_path).as_posix()
        return prefix if parent == "." else f"{prefix}/{parent}"

    results = await asyncio.gather(
        *(
            _upload_one(p, verify=verify, fname=None, root=root_of(p), content_type=None)
            for p in files
        )
    )
    first_url, first_file = results[0][1], files[0]
    rel = first_file.relative_to(dir_path).as_posix()
    base = first_url[: -len(rel)] if first_url.endswith(rel) else first_url.rsplit("/", 1)[0] + "/"
    return base.rstrip("/")
