"""One suite, four real backends: S3 (moto), S3 with signature checks (SeaweedFS), GCS
(fake-gcs-server) and Azure Blob (Azurite). Start them with scripts/services/start.sh and
export FLYTE_TEST_SERVICES_ENV (see conftest.py).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

import flyte_storage
from flyte_storage.errors import (
    AccessDenied,
    IntegrityError,
    InvalidURI,
    ObjectNotFound,
    ServiceUnavailable,
    StorageError,
)

MiB = 1024 * 1024
BACKENDS = ("s3-moto", "s3-seaweedfs", "gcs", "azure")


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _write_random(path: str, size: int, block: int = 8 * MiB) -> str:
    """Write `size` random bytes to `path` without holding them in memory; return the sha256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            piece = os.urandom(min(block, left))
            h.update(piece)
            f.write(piece)
            left -= len(piece)
    return h.hexdigest()


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MiB):
            h.update(chunk)
    return h.hexdigest()


def _tree(root: Any) -> dict[str, bytes]:
    files = {
        "a.txt": b"a",
        "empty.bin": b"",
        "with space.txt": b"spaced",
        "sub/b.bin": os.urandom(100_000),
        "sub/deeper/c.txt": b"c" * 10,
        "sub/deeper/big.bin": os.urandom(6 * MiB + 5),
        **{f"many/f{i:02d}.txt": str(i).encode() for i in range(25)},
    }
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def _read_tree(path: str) -> dict[str, bytes]:
    out = {}
    for base, _, names in os.walk(path):
        for name in names:
            full = os.path.join(base, name)
            with open(full, "rb") as f:
                out[os.path.relpath(full, path)] = f.read()
    return out


# --------------------------------------------------------------------------------------------
# the API on every backend


async def test_file_roundtrip(backend: Any, tmp_path: Any) -> None:
    data = os.urandom(3 * MiB + 17)
    src = tmp_path / "in.bin"
    src.write_bytes(data)
    uri = await flyte_storage.put(str(src), backend.uri("dir", "in.bin"))
    assert uri == backend.uri("dir", "in.bin")
    assert await flyte_storage.exists(uri)
    assert await flyte_storage.size(uri) == len(data)

    local = await flyte_storage.get(uri)
    assert os.path.basename(local) == "in.bin"
    with open(local, "rb") as f:
        assert f.read() == data
    explicit = str(tmp_path / "out" / "copy.bin")
    assert await flyte_storage.get(uri, explicit) == explicit
    assert await flyte_storage.get(uri, str(tmp_path / "out") + "/") == str(
        tmp_path / "out" / "in.bin"
    )
    # a destination ending in "/" keeps the source name
    again = await flyte_storage.put(str(src), backend.uri("dir2") + "/")
    assert again == backend.uri("dir2", "in.bin")


def test_sync_api(backend: Any, tmp_path: Any) -> None:
    src = tmp_path / "s.txt"
    src.write_bytes(b"sync")
    uri = flyte_storage.put_sync(src, backend.uri("s.txt"))
    assert flyte_storage.exists_sync(uri) and flyte_storage.size_sync(uri) == 4
    assert flyte_storage.ls_sync(backend.root) == [uri]
    assert list(flyte_storage.walk_sync(backend.root)) == [uri]
    with open(flyte_storage.get_sync(uri), "rb") as f:
        assert f.read() == b"sync"
    flyte_storage.rm_sync(uri)
    assert not flyte_storage.exists_sync(uri)


async def test_listing_and_delete(backend: Any) -> None:
    for rel in ("x/1.txt", "x/2.txt", "x/y/3.txt", "top.txt"):
        await flyte_storage.put_stream(rel.encode(), backend.uri(rel))
    assert await flyte_storage.ls(backend.root) == [backend.uri("top.txt"), backend.uri("x")]
    assert await flyte_storage.ls(backend.uri("x")) == [
        backend.uri("x", "1.txt"),
        backend.uri("x", "2.txt"),
        backend.uri("x", "y"),
    ]
    assert [p async for p in flyte_storage.walk(backend.uri("x"))] == [
        backend.uri("x", "1.txt"),
        backend.uri("x", "2.txt"),
        backend.uri("x", "y", "3.txt"),
    ]
    assert await flyte_storage.exists(backend.uri("x"))  # a prefix counts as a directory
    with pytest.raises(InvalidURI):
        await flyte_storage.rm(backend.uri("x"))
    await flyte_storage.rm(backend.uri("x"), recursive=True)
    assert not await flyte_storage.exists(backend.uri("x", "y", "3.txt"))
    assert await flyte_storage.exists(backend.uri("top.txt"))


async def test_directory_tree_roundtrip(backend: Any, tmp_path: Any) -> None:
    files = _tree(tmp_path / "src")
    dest = backend.uri("tree")
    assert await flyte_storage.put(str(tmp_path / "src"), dest, recursive=True) == dest
    listed = [p async for p in flyte_storage.walk(dest)]
    assert listed == sorted(flyte_storage.join(dest, rel) for rel in files)
    back = await flyte_storage.get(dest, str(tmp_path / "back"), recursive=True)
    assert _read_tree(back) == files
    with pytest.raises(InvalidURI):
        await flyte_storage.get(dest)


async def test_missing_objects(backend: Any) -> None:
    missing = backend.uri("nope.bin")
    assert not await flyte_storage.exists(missing)
    for make in (
        lambda: flyte_storage.get(missing),
        lambda: flyte_storage.size(missing),
        lambda: flyte_storage.rm(missing),
        lambda: flyte_storage.ls(backend.uri("nope-dir")),
    ):
        with pytest.raises(ObjectNotFound) as info:
            await make()
        assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(ObjectNotFound):
        [c async for c in flyte_storage.get_stream(missing)]
    with pytest.raises(ObjectNotFound):
        async with flyte_storage.open(missing) as f:
            await f.read()
    with pytest.raises(ObjectNotFound):  # a bucket that does not exist
        absent = f"no-such-bucket-{uuid.uuid4().hex[:10]}"
        await flyte_storage.put_stream(b"x", f"{backend.protocol}://{absent}/k")


async def test_streaming_write_and_read(backend: Any) -> None:
    uri = backend.uri("stream.bin")
    h = hashlib.sha256()
    async with flyte_storage.open(uri, "wb") as f:
        for _ in range(20):  # 20 MiB in 1 MiB writes: several multipart parts
            piece = os.urandom(MiB)
            h.update(piece)
            await f.write(piece)
    assert await flyte_storage.size(uri) == 20 * MiB
    got = hashlib.sha256()
    n = 0
    async for chunk in flyte_storage.get_stream(uri, chunk_size=3 * MiB):
        got.update(chunk)
        n += 1
    assert got.hexdigest() == h.hexdigest() and n == 7
    async with flyte_storage.open(uri) as f:
        await f.seek(10 * MiB)
        assert len(await f.read(MiB)) == MiB


async def test_failed_streaming_write_leaves_nothing(backend: Any) -> None:
    uri = backend.uri("aborted.bin")
    with pytest.raises(RuntimeError):
        async with flyte_storage.open(uri, "wb") as f:
            for _ in range(12):  # past the first part: a multipart upload is in progress
                await f.write(os.urandom(MiB))
            raise RuntimeError("producer failed")
    assert not await flyte_storage.exists(uri)

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(12):
            yield os.urandom(MiB)
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        await flyte_storage.put_stream(broken(), uri)
    assert not await flyte_storage.exists(uri)


async def test_overwrite_and_failed_overwrite_keeps_old(backend: Any) -> None:
    uri = backend.uri("o.txt")
    await flyte_storage.put_stream(b"v1", uri)
    await flyte_storage.put_stream(b"v2", uri)
    assert b"".join([c async for c in flyte_storage.get_stream(uri)]) == b"v2"
    with pytest.raises(RuntimeError):
        async with flyte_storage.open(uri, "wb") as f:
            await f.write(b"v3-partial")
            raise RuntimeError("no")
    assert b"".join([c async for c in flyte_storage.get_stream(uri)]) == b"v2"


def test_large_object_200mb(backend: Any, tmp_path: Any, rss: Any) -> None:
    # A 32 MiB budget of parts in flight each way (4 x 8 MiB): memory must stay near it, far
    # below the object's size, whatever the backend.
    flyte_storage.configure(
        dataclasses.replace(
            backend.config,
            chunk_size=8 * MiB,
            max_concurrency=4,
            upload_chunk_size=8 * MiB,
            upload_max_concurrency=4,
        )
    )
    size = 200 * MiB
    src = str(tmp_path / "big.bin")
    digest = _write_random(src, size)
    uri = backend.uri("big.bin")
    with rss() as up:
        flyte_storage.put_sync(src, uri)
    os.unlink(src)
    assert flyte_storage.size_sync(uri) == size
    with rss() as down:
        local = flyte_storage.get_sync(uri, str(tmp_path / "back.bin"))
    assert _sha256_file(local) == digest
    os.unlink(local)
    h = hashlib.sha256()
    with rss() as stream:
        for chunk in flyte_storage.get_stream_sync(uri):
            h.update(chunk)
    assert h.hexdigest() == digest
    # Streaming: memory grows by parts in flight, never by anything like the object's size.
    for label, sampler in (("put", up), ("get", down), ("get_stream", stream)):
        print(f"{backend.name} {label}: peak RSS growth {sampler.peak_growth >> 20} MiB")
        assert (
            sampler.peak_growth < 150 * MiB
        ), f"{label} grew RSS by {sampler.peak_growth >> 20} MiB"


# --------------------------------------------------------------------------------------------
# signed URLs


async def test_signed_url_put_and_get(backend: Any, tmp_path: Any) -> None:
    data = os.urandom(5 * MiB + 3)
    src = tmp_path / "payload.bin"
    src.write_bytes(data)
    url, headers = backend.signed_put("signed/payload.bin", content_md5=_md5_b64(data))
    seen: list[int] = []
    n = await flyte_storage.upload_signed(
        str(src), url, headers=headers, progress=lambda done, total: seen.append(done)
    )
    assert n == len(data) and seen[-1] == len(data)
    uri = f"{backend.protocol}://{backend.bucket}/signed/payload.bin"
    assert await flyte_storage.size(uri) == len(data)

    dest = str(tmp_path / "dl" / "payload.bin")
    assert (
        await flyte_storage.download_signed(backend.signed_get("signed/payload.bin"), dest) == dest
    )
    with open(dest, "rb") as f:
        assert f.read() == data
    chunks = [
        c
        async for c in flyte_storage.download_signed_stream(
            backend.signed_get("signed/payload.bin"), chunk_size=MiB
        )
    ]
    assert b"".join(chunks) == data
    await flyte_storage.rm(uri)


def test_signed_url_sync(backend: Any, tmp_path: Any) -> None:
    url, headers = backend.signed_put("signed/sync.txt")
    assert flyte_storage.upload_signed_sync(b"sync bytes", url, headers=headers) == 10
    dest = flyte_storage.download_signed_sync(backend.signed_get("signed/sync.txt"))
    with open(dest, "rb") as f:
        assert f.read() == b"sync bytes"
    flyte_storage.rm_sync(f"{backend.protocol}://{backend.bucket}/signed/sync.txt")


async def test_tampered_signed_url_is_rejected(backend: Any, tmp_path: Any) -> None:
    if not backend.checks_signatures:
        pytest.skip(f"{backend.name} does not verify signatures (moto, fake-gcs-server)")
    url, headers = backend.signed_put("signed/ok.bin")
    tampered = url.replace("signed/ok.bin", "signed/evil.bin")
    with pytest.raises(AccessDenied) as info:
        await flyte_storage.upload_signed(b"evil", tampered, headers=headers, retries=0)
    assert "?<redacted>" in str(info.value)
    assert not await flyte_storage.exists(f"{backend.protocol}://{backend.bucket}/signed/evil.bin")

    await flyte_storage.upload_signed(b"fine", url, headers=headers)
    get_url = backend.signed_get("signed/ok.bin")
    sig_param = "X-Amz-Signature=" if backend.protocol == "s3" else "sig="
    head, _, tail = get_url.partition(sig_param)
    forged = head + sig_param + ("0" if tail[0] != "0" else "1") + tail[1:]
    with pytest.raises(AccessDenied):
        await flyte_storage.download_signed(forged, str(tmp_path / "x"), retries=0)
    assert os.listdir(tmp_path) == []


async def test_signed_upload_md5_mismatch_is_rejected(backend: Any) -> None:
    if not backend.checks_md5:
        pytest.skip(f"{backend.name} does not verify Content-MD5")
    url, headers = backend.signed_put("signed/md5.bin")
    with pytest.raises(IntegrityError):
        await flyte_storage.upload_signed(b"content", url, content_md5=_md5_b64(b"other"))
    assert not await flyte_storage.exists(f"{backend.protocol}://{backend.bucket}/signed/md5.bin")


async def test_wrong_credentials_are_access_denied(backend: Any) -> None:
    if not backend.checks_signatures:
        pytest.skip(f"{backend.name} accepts any credentials")
    if backend.protocol == "s3":
        bad = backend.config.s3.replace(secret_access_key="wrong-secret", retries=0)
    else:
        bad = backend.config.abfs.replace(
            account_key=base64.b64encode(b"not the key").decode(), retries=0
        )
    flyte_storage.configure(backend.config.with_backend(bad))
    with pytest.raises(AccessDenied):
        await flyte_storage.exists(backend.uri("x"))
    with pytest.raises(AccessDenied):
        await flyte_storage.put_stream(b"x", backend.uri("x"))


# --------------------------------------------------------------------------------------------
# killing the service mid-transfer


def _chunks_then_kill(service: Any, total_mib: int, kill_at_mib: int) -> Iterator[bytes]:
    for i in range(total_mib):
        if i == kill_at_mib:
            service.kill()
        yield os.urandom(MiB)


FAST_FAIL = {"retries": 1, "backoff": 0.2, "connect_timeout": 2, "read_timeout": 20}


@pytest.mark.parametrize("name", BACKENDS)
def test_service_killed_during_streaming_upload(
    name: str, private_backend: Callable[..., Any]
) -> None:
    pb = private_backend(name, **FAST_FAIL)
    uri = pb.backend.uri("upload.bin")
    start = time.monotonic()
    with pytest.raises(StorageError) as info:
        flyte_storage.put_stream_sync(_chunks_then_kill(pb.service, 48, 20), uri)
    assert isinstance(info.value, ServiceUnavailable), repr(info.value)
    assert time.monotonic() - start < 120
    assert uri in str(info.value)
    pb.restart()  # same data directory: an on-disk store shows whatever was committed
    with pytest.raises(ObjectNotFound):
        flyte_storage.size_sync(uri)


@pytest.mark.parametrize("name", BACKENDS)
def test_service_killed_during_download(
    name: str, private_backend: Callable[..., Any], tmp_path: Any
) -> None:
    pb = private_backend(name, **FAST_FAIL)
    uri = pb.backend.uri("download.bin")
    src = str(tmp_path / "src.bin")
    _write_random(src, 160 * MiB)
    flyte_storage.put_sync(src, uri)
    os.unlink(src)
    # Small parts, one at a time: the download takes long enough to be interrupted.
    flyte_storage.configure(
        dataclasses.replace(flyte_storage.get_config(), chunk_size=MiB, max_concurrency=2)
    )
    dest_dir = tmp_path / "dl"
    dest_dir.mkdir()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["path"] = flyte_storage.get_sync(uri, str(dest_dir / "download.bin"))
        except BaseException as e:  # - reported to the test thread
            outcome["error"] = e

    t = threading.Thread(target=run)
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        os.path.getsize(dest_dir / n) > 4 * MiB for n in os.listdir(dest_dir)
    ):
        time.sleep(0.002)
    pb.service.kill()
    t.join(180)
    assert not t.is_alive()
    assert "error" in outcome, "the download finished before the service was killed"
    assert isinstance(outcome["error"], ServiceUnavailable), repr(outcome["error"])
    assert os.listdir(dest_dir) == []  # no partial file, no temporary


@pytest.mark.parametrize("name", BACKENDS)
def test_service_killed_during_get_stream(name: str, private_backend: Callable[..., Any]) -> None:
    pb = private_backend(name, **FAST_FAIL)
    uri = pb.backend.uri("s.bin")
    flyte_storage.put_stream_sync((os.urandom(MiB) for _ in range(32)), uri)
    stream = flyte_storage.get_stream_sync(uri, chunk_size=MiB)
    assert len(next(stream)) == MiB
    pb.service.kill()
    with pytest.raises(ServiceUnavailable):
        for _ in stream:
            pass


@pytest.mark.parametrize("name", BACKENDS)
def test_service_killed_during_signed_upload(
    name: str, private_backend: Callable[..., Any], tmp_path: Any
) -> None:
    pb = private_backend(name, **FAST_FAIL)
    src = str(tmp_path / "p.bin")
    _write_random(src, 64 * MiB)
    url, headers = pb.backend.signed_put("signed/p.bin")

    def progress(done: int, total: int | None) -> None:
        if done >= 16 * MiB:
            pb.service.kill()

    start = time.monotonic()
    with pytest.raises(ServiceUnavailable) as info:
        flyte_storage.upload_signed_sync(
            src, url, headers=headers, progress=progress, retries=2, backoff=0.1
        )
    assert time.monotonic() - start < 60
    assert "?<redacted>" in str(info.value) or "?" not in str(info.value)
    pb.restart()
    assert not flyte_storage.exists_sync(
        f"{pb.backend.protocol}://{pb.backend.bucket}/signed/p.bin"
    )


# --------------------------------------------------------------------------------------------
# configuration alone


def test_emulators_work_by_configuration_alone(services: dict[str, str]) -> None:
    """With only the standard variables from the env file, the default config reaches all three."""
    names = (
        "FLYTE_AWS_ENDPOINT",
        "FLYTE_AWS_ACCESS_KEY_ID",
        "FLYTE_AWS_SECRET_ACCESS_KEY",
        "AWS_DEFAULT_REGION",
        "STORAGE_EMULATOR_HOST",
        "AZURE_STORAGE_CONNECTION_STRING",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "FLYTE_", "AZURE_"))}
    env.update({k: services[k] for k in names})
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)  # works from a Pants PEX too
    script = textwrap.dedent(
        """
        import json, uuid, flyte_storage
        out = {}
        for proto in ("s3", "gs", "abfs"):
            bucket = "cfg-" + uuid.uuid4().hex[:10]
            flyte_storage.get_filesystem(proto).mkdir(bucket)
            uri = flyte_storage.put_stream_sync(b"configured", f"{proto}://{bucket}/k.txt")
            out[proto] = b"".join(flyte_storage.get_stream_sync(uri)).decode()
            flyte_storage.rm_sync(uri)
        print(json.dumps(out))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "s3": "configured",
        "gs": "configured",
        "abfs": "configured",
    }
