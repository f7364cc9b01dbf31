"""Blob storage for the devbox (local disk or any flyte-storage URI) and its signed URLs.

Local disk is the default and needs nothing but the standard library. Any other URI
(`s3://`, `gs://`, `abfs://`) goes through `flyte_storage`, imported on first use, with the
credentials of the devbox process; the `a0` processes inherit the same environment.

Signed URLs are always served by the devbox itself (`/_blob/<key>`): an upload is verified
(signature, expiry, Content-MD5) and then written to the store, local or remote. That needs no
cloud-specific presigning and behaves the same for every backend.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import posixpath
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

__all__ = ["BlobStore", "LocalBlobStore", "RemoteBlobStore", "UrlSigner", "open_blob_store"]

_CHUNK = 1024 * 1024


class BlobStore:
    """A flat namespace of blobs under `root`; URIs are `root` + `/` + key."""

    root: str
    is_local: bool

    def join(self, *parts: str) -> str:
        out = parts[0].rstrip("/")
        for p in parts[1:]:
            p = p.strip("/")
            if p:
                out = f"{out}/{p}"
        return out

    def key_of(self, uri: str) -> str | None:
        """The key of `uri` below the root, or None if it lies outside."""
        uri = self.normalize(uri)
        prefix = self.root.rstrip("/") + "/"
        if not uri.startswith(prefix):
            return None
        key = posixpath.normpath(uri[len(prefix) :])
        if key.startswith("..") or key.startswith("/") or key == ".":
            return None
        return key

    def uri_of(self, key: str) -> str:
        return self.join(self.root, key)

    def normalize(self, uri: str) -> str:
        return uri

    async def read(self, uri: str) -> bytes | None:
        """The whole blob, or None if it does not exist."""
        raise NotImplementedError

    async def write(self, uri: str, data: bytes) -> None:
        raise NotImplementedError

    async def exists(self, uri: str) -> bool:
        raise NotImplementedError

    async def write_file(self, uri: str, local_path: str) -> None:
        """Move a finished local file into the store at `uri` (the file is consumed)."""
        raise NotImplementedError

    def stream(self, uri: str) -> AsyncIterator[bytes]:
        """The blob in chunks; raises FileNotFoundError if it does not exist."""
        raise NotImplementedError

    def staging_dir(self, uri: str) -> str:
        """A local directory where an upload to `uri` may be assembled before `write_file`."""
        raise NotImplementedError


class LocalBlobStore(BlobStore):
    """Blobs as plain files; URIs are absolute paths (what the runtime's fsspec reads)."""

    is_local = True

    def __init__(self, root: str | Path) -> None:
        self.root = str(Path(self.normalize(str(root))).absolute())
        os.makedirs(self.root, exist_ok=True)

    def normalize(self, uri: str) -> str:
        if uri.startswith("file://"):
            uri = uri[len("file://") :]
            if not uri.startswith("/"):
                uri = "/" + uri
        return uri

    async def read(self, uri: str) -> bytes | None:
        path = self.normalize(uri)
        try:
            with open(path, "rb") as f:
                return f.read()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    async def write(self, uri: str, data: bytes) -> None:
        path = self.normalize(uri)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{uuid.uuid4().hex}.part"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    async def exists(self, uri: str) -> bool:
        return os.path.exists(self.normalize(uri))

    async def write_file(self, uri: str, local_path: str) -> None:
        path = self.normalize(uri)
        await asyncio.to_thread(os.makedirs, os.path.dirname(path), exist_ok=True)
        await asyncio.to_thread(os.replace, local_path, path)

    async def stream(self, uri: str) -> AsyncIterator[bytes]:  # type: ignore[override]
        path = self.normalize(uri)
        if not os.path.isfile(path):
            raise FileNotFoundError(uri)
        with open(path, "rb") as f:
            while True:
                chunk = await asyncio.to_thread(f.read, _CHUNK)
                if not chunk:
                    return
                yield chunk

    def staging_dir(self, uri: str) -> str:
        # Same directory as the destination, so the final rename is atomic.
        directory = os.path.dirname(self.normalize(uri))
        os.makedirs(directory, exist_ok=True)
        return directory


class RemoteBlobStore(BlobStore):
    """Blobs in an object store, through `flyte_storage`."""

    is_local = False

    def __init__(self, root: str, scratch_dir: Path) -> None:
        self.root = root.rstrip("/")
        self._scratch = scratch_dir
        self._storage: Any = None

    def _fs(self) -> Any:
        if self._storage is None:
            try:
                import flyte_storage
            except ImportError as e:  # pragma: no cover - flyte-storage is a declared dependency
                raise RuntimeError(
                    f"storage_uri {self.root!r} needs flyte-storage: pip install flyte-storage"
                ) from e
            self._storage = flyte_storage
        return self._storage

    async def read(self, uri: str) -> bytes | None:
        fs = self._fs()
        try:
            chunks = [chunk async for chunk in fs.get_stream(uri)]
        except FileNotFoundError:
            return None
        return b"".join(chunks)

    async def write(self, uri: str, data: bytes) -> None:
        await self._fs().put_stream(data, to_path=uri)

    async def exists(self, uri: str) -> bool:
        return bool(await self._fs().exists(uri))

    async def write_file(self, uri: str, local_path: str) -> None:
        try:
            await self._fs().put(local_path, uri)
        finally:
            await asyncio.to_thread(_remove_quietly, local_path)

    async def stream(self, uri: str) -> AsyncIterator[bytes]:  # type: ignore[override]
        async for chunk in self._fs().get_stream(uri):
            yield chunk

    def staging_dir(self, uri: str) -> str:
        self._scratch.mkdir(parents=True, exist_ok=True)
        return str(self._scratch)


def open_blob_store(root: str, scratch_dir: Path) -> BlobStore:
    """The store for `root`: local for a path or `file://`, flyte-storage for anything else."""
    if "://" not in root or root.startswith("file://"):
        return LocalBlobStore(root)
    return RemoteBlobStore(root, scratch_dir)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def new_staging_file(directory: str) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=directory)


def copy_file(src: str, dst: str) -> None:
    shutil.copyfile(src, dst)


class SignatureError(Exception):
    """A signed URL that is malformed, tampered with or expired."""


class UrlSigner:
    """HMAC-signed `/_blob/<key>` URLs: a PUT bound to a Content-MD5, or a GET."""

    PATH_PREFIX = "/_blob/"

    def __init__(self, secret: bytes, base_url: str) -> None:
        self._secret = secret
        self.base_url = base_url.rstrip("/")

    def _sig(self, op: str, key: str, exp: int, md5: str) -> str:
        msg = f"{op}\n{key}\n{exp}\n{md5}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def sign(self, op: str, key: str, expires_at: float, md5_b64: str = "") -> str:
        """A URL allowing `op` (`put` or `get`) on `key` until `expires_at` (POSIX seconds)."""
        exp = int(expires_at)
        query = {"op": op, "exp": str(exp)}
        if md5_b64:
            query["md5"] = md5_b64
        query["sig"] = self._sig(op, key, exp, md5_b64)
        return f"{self.base_url}{self.PATH_PREFIX}{quote(key, safe='/')}?{urlencode(query)}"

    def verify(self, method: str, raw_path: str, query_string: str) -> tuple[str, str]:
        """Check a request against its signature; returns `(key, md5_b64)`.

        Raises:
            SignatureError: If the URL is not a valid, unexpired signature for `method`.
        """
        key = unquote(raw_path[len(self.PATH_PREFIX) :])
        q = {k: v[0] for k, v in parse_qs(query_string, keep_blank_values=True).items()}
        op = q.get("op", "")
        expected_op = {"PUT": "put", "GET": "get", "HEAD": "get"}.get(method)
        if op != expected_op:
            raise SignatureError(f"this URL is not signed for {method}")
        try:
            exp = int(q.get("exp", ""))
        except ValueError:
            raise SignatureError("malformed signed URL") from None
        md5 = q.get("md5", "")
        if not hmac.compare_digest(self._sig(op, key, exp, md5), q.get("sig", "")):
            raise SignatureError("signature does not match")
        if exp < time.time():
            raise SignatureError("signed URL has expired")
        norm = posixpath.normpath(key)
        if norm != key or key.startswith("/") or key.startswith(".."):
            raise SignatureError("malformed key")
        return key, md5


def md5_b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")
