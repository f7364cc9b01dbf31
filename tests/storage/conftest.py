"""Fixtures for the storage suite against real emulators (moto, SeaweedFS, Azurite, fake-gcs-server).

The services are started by `scripts/services/start.sh`, which writes their endpoints to an env
file and prints its path; point `FLYTE_TEST_SERVICES_ENV` at it. Without that variable every test
here is skipped with that instruction. With it, an unreachable service is a failure, not a skip.

Every backend test receives `backend`: a `Backend` whose configuration is active in
`flyte_storage` (set with `configure()` from the env file's values only, so "works by
configuration alone" is what is tested) and whose `root` is a fresh prefix in a bucket of its own.
"""

from __future__ import annotations

import datetime
import importlib
import os
import random
import shlex
import signal
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import flyte_storage
from flyte_storage import ABFS, GCS, S3, StorageConfig

BACKENDS = ("s3-moto", "s3-seaweedfs", "gcs", "azure")
ENV_VAR = "FLYTE_TEST_SERVICES_ENV"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.services)


def parse_env_file(path: str) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments; values may be shell-quoted."""
    out: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            parts = shlex.split(value) if value else [""]
            out[key.strip()] = parts[0] if parts else ""
    return out


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    """The env file written by scripts/services/start.sh (skip if not configured)."""
    path = os.environ.get(ENV_VAR)
    if not path:
        pytest.skip(
            f"{ENV_VAR} is not set: run scripts/services/install.sh and scripts/services/start.sh, "
            f"then export {ENV_VAR}=<the path start.sh prints>"
        )
    if not os.path.exists(path):
        pytest.fail(f"{ENV_VAR}={path} does not exist: did scripts/services/start.sh run?")
    return parse_env_file(path)


def _probe(url: str) -> None:
    """Fail (not skip) if nothing answers HTTP at `url`: the services were promised to run."""
    try:
        urllib.request.urlopen(url, timeout=5)  # - loopback test endpoint
    except urllib.error.HTTPError:
        return  # an HTTP answer (403, 404, 400) means the service is up
    except OSError as e:
        pytest.fail(
            f"storage service at {url} is unreachable ({e}); is start.sh's service running?"
        )


@dataclass
class Backend:
    """One emulator, as the tests see it."""

    name: str
    protocol: str
    config: StorageConfig
    bucket: str
    services: dict[str, str]
    root: str = ""
    checks_signatures: bool = False
    checks_md5: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def uri(self, *parts: str) -> str:
        return flyte_storage.join(self.root, *parts)

    # --- signed URLs, minted the way a control plane would ------------------------------
    def signed_put(self, key: str, content_md5: str | None = None) -> tuple[str, dict[str, str]]:
        """A URL (and required headers) to PUT `key` in the bucket."""
        return _SIGNERS[self.name](self, key, "put", content_md5)

    def signed_get(self, key: str) -> str:
        url, _ = _SIGNERS[self.name](self, key, "get", None)
        return url


def _s3_client(b: Backend) -> Any:
    # Cloud SDKs come with the storage extras (s3fs -> botocore, adlfs -> azure-storage-blob);
    # imported by name so the build does not look for them as direct requirements.
    config = importlib.import_module("botocore.config")
    session = importlib.import_module("botocore.session")

    s3 = b.config.s3
    return session.get_session().create_client(
        "s3",
        endpoint_url=s3.endpoint,
        aws_access_key_id=s3.access_key_id,
        aws_secret_access_key=s3.secret_access_key,
        region_name="us-east-1",
        config=config.Config(signature_version="s3v4"),
    )


def _sign_s3(b: Backend, key: str, op: str, content_md5: str | None) -> tuple[str, dict[str, str]]:
    params: dict[str, Any] = {"Bucket": b.bucket, "Key": key}
    headers: dict[str, str] = {}
    if op == "put" and content_md5:
        params["ContentMD5"] = content_md5
        headers["Content-MD5"] = content_md5
    method = "put_object" if op == "put" else "get_object"
    return _s3_client(b).generate_presigned_url(method, Params=params, ExpiresIn=600), headers


def _sign_azure(
    b: Backend, key: str, op: str, content_md5: str | None
) -> tuple[str, dict[str, str]]:
    blob = importlib.import_module("azure.storage.blob")

    perms = blob.BlobSasPermissions(read=True, write=True, create=True)
    sas = blob.generate_blob_sas(
        account_name=b.config.abfs.account_name,
        container_name=b.bucket,
        blob_name=key,
        account_key=b.config.abfs.account_key,
        permission=perms,
        expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10),
    )
    return f"{b.config.abfs.endpoint}/{b.bucket}/{key}?{sas}", {}


def _sign_gcs(b: Backend, key: str, op: str, content_md5: str | None) -> tuple[str, dict[str, str]]:
    # fake-gcs-server does not verify signed URLs and has no XML-API PUT; a resumable-upload
    # session URI is the same kind of capability URL (what GCS hands out for direct uploads).
    import httpx

    endpoint = b.config.gcs.endpoint
    if op == "get":
        return f"{endpoint}/{b.bucket}/{key}?X-Goog-Signature=not-checked", {}
    r = httpx.post(
        f"{endpoint}/upload/storage/v1/b/{b.bucket}/o",
        params={"uploadType": "resumable", "name": key},
        json={},
    )
    r.raise_for_status()
    return r.headers["location"], {}


_SIGNERS: dict[str, Callable[[Backend, str, str, str | None], tuple[str, dict[str, str]]]] = {
    "s3-moto": _sign_s3,
    "s3-seaweedfs": _sign_s3,
    "azure": _sign_azure,
    "gcs": _sign_gcs,
}


def make_config(name: str, env: dict[str, str], **common: Any) -> StorageConfig:
    """The configuration for one backend, from the env file's values only."""
    if name == "s3-moto":
        s3 = S3(
            endpoint=env["FLYTE_TEST_S3_ENDPOINT"],
            access_key_id=env["FLYTE_TEST_S3_ACCESS_KEY_ID"],
            secret_access_key=env["FLYTE_TEST_S3_SECRET_ACCESS_KEY"],
            addressing_style="path",
            **common,
        )
        return StorageConfig(s3=s3)
    if name == "s3-seaweedfs":
        s3 = S3(
            endpoint=env["FLYTE_TEST_SEAWEEDFS_ENDPOINT"],
            access_key_id=env["FLYTE_TEST_SEAWEEDFS_ACCESS_KEY_ID"],
            secret_access_key=env["FLYTE_TEST_SEAWEEDFS_SECRET_ACCESS_KEY"],
            addressing_style="path",
            **common,
        )
        return StorageConfig(s3=s3)
    if name == "gcs":
        return StorageConfig(gcs=GCS(endpoint=env["FLYTE_TEST_GCS_ENDPOINT"], **common))
    if name == "azure":
        abfs = ABFS(
            account_name=env["FLYTE_TEST_AZURE_ACCOUNT_NAME"],
            account_key=env["FLYTE_TEST_AZURE_ACCOUNT_KEY"],
            endpoint=env["FLYTE_TEST_AZURE_ENDPOINT"],
            **common,
        )
        return StorageConfig(abfs=abfs)
    raise AssertionError(name)


_PROTOCOL = {"s3-moto": "s3", "s3-seaweedfs": "s3", "gcs": "gs", "azure": "abfs"}
_ENDPOINT_KEY = {
    "s3-moto": "FLYTE_TEST_S3_ENDPOINT",
    "s3-seaweedfs": "FLYTE_TEST_SEAWEEDFS_ENDPOINT",
    "gcs": "FLYTE_TEST_GCS_ENDPOINT",
    "azure": "FLYTE_TEST_AZURE_ENDPOINT",
}


def create_bucket(config: StorageConfig, protocol: str, bucket: str) -> None:
    flyte_storage.configure(config)
    flyte_storage.get_filesystem(protocol).mkdir(bucket)


@pytest.fixture(scope="session")
def backend_buckets(services: dict[str, str]) -> dict[str, str]:
    """One bucket per backend for the whole session (created lazily below)."""
    return {}


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, services: dict[str, str], backend_buckets: dict[str, str]
) -> Iterator[Backend]:
    name = request.param
    _probe(services[_ENDPOINT_KEY[name]] + ("/moto-api/" if name == "s3-moto" else "/"))
    config = make_config(name, services)
    protocol = _PROTOCOL[name]
    if name not in backend_buckets:
        bucket = f"flyte-it-{uuid.uuid4().hex[:12]}"
        create_bucket(config, protocol, bucket)
        backend_buckets[name] = bucket
    flyte_storage.configure(config)
    b = Backend(
        name=name,
        protocol=protocol,
        config=config,
        bucket=backend_buckets[name],
        services=services,
        checks_signatures=name in ("s3-seaweedfs", "azure"),
        checks_md5=name in ("s3-seaweedfs", "azure"),
    )
    b.root = f"{protocol}://{b.bucket}/t-{uuid.uuid4().hex[:10]}"
    yield b
    flyte_storage.configure(config)
    try:
        if flyte_storage.exists_sync(b.root):
            flyte_storage.rm_sync(b.root, recursive=True)
    finally:
        flyte_storage.configure(None)


# --- private service instances (for killing one mid-transfer) ------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_low_port() -> int:
    """A free port below the ephemeral range whose `+10000` twin is free too (SeaweedFS gRPC)."""
    for _ in range(200):
        port = random.randint(22100, 22700)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair found")


@dataclass
class PrivateService:
    """An emulator process of our own, on its own port and data directory."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    data_dir: str
    ready_url: str
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        log = open(os.path.join(self.data_dir, f"{self.name}.log"), "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.argv,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            try:
                urllib.request.urlopen(self.ready_url, timeout=1)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not become ready on port {self.port}")

    def kill(self) -> None:
        """SIGKILL the process group: an abrupt death, like a crashed server."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def private_service(name: str, services: dict[str, str], data_dir: str) -> PrivateService:
    port = free_port()
    if name == "s3-moto":
        argv = [services["FLYTE_TEST_MOTO_BIN"], "-H", "127.0.0.1", "-p", str(port)]
        return PrivateService(name, argv, {}, port, data_dir, f"http://127.0.0.1:{port}/moto-api/")
    if name == "s3-seaweedfs":
        port = free_low_port()
        ports = [free_low_port() for _ in range(4)]
        argv = [
            services["FLYTE_TEST_WEED_BIN"],
            "mini",
            f"-dir={data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-admin.ui=false",
            "-webdav=false",
            f"-s3.port={port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.autoCreateBucket=false",  # like real S3: a missing bucket is an error
            f"-master.port={ports[0]}",
            f"-volume.port={ports[1]}",
            f"-filer.port={ports[2]}",
            f"-admin.port={ports[3]}",
        ]
        env = {
            "AWS_ACCESS_KEY_ID": services["FLYTE_TEST_SEAWEEDFS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": services["FLYTE_TEST_SEAWEEDFS_SECRET_ACCESS_KEY"],
        }
        return PrivateService(name, argv, env, port, data_dir, f"http://127.0.0.1:{port}/")
    if name == "azure":
        argv = [
            services["FLYTE_TEST_AZURITE_BIN"],
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            data_dir,
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
        ]
        return PrivateService(
            name, argv, {}, port, data_dir, f"http://127.0.0.1:{port}/devstoreaccount1"
        )
    if name == "gcs":
        argv = [
            services["FLYTE_TEST_FAKEGCS_BIN"],
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-backend",
            "memory",
            "-external-url",
            f"http://127.0.0.1:{port}",
            "-public-host",
            f"127.0.0.1:{port}",
            "-log-level",
            "warn",
        ]
        return PrivateService(
            name, argv, {}, port, data_dir, f"http://127.0.0.1:{port}/storage/v1/b"
        )
    raise AssertionError(name)


def private_env(name: str, services: dict[str, str], port: int) -> dict[str, str]:
    """The env-file values of `services`, pointed at a private instance on `port`."""
    env = dict(services)
    key = _ENDPOINT_KEY[name]
    suffix = "/devstoreaccount1" if name == "azure" else ""
    env[key] = f"http://127.0.0.1:{port}{suffix}"
    return env


@dataclass
class PrivateBackend:
    """A private emulator with a bucket, configured in `flyte_storage` (see `private_backend`)."""

    service: PrivateService
    backend: Backend

    def restart(self) -> None:
        self.service.start()


@pytest.fixture
def private_backend(
    services: dict[str, str], tmp_path: Any
) -> Iterator[Callable[..., PrivateBackend]]:
    """Factory: `private_backend(name, **settings)` starts a private instance of that emulator.

    `settings` (e.g. `retries=1`) go into the cloud config. The instance is killed at the end.
    """
    started: list[PrivateService] = []

    def make(name: str, **settings: Any) -> PrivateBackend:
        data = tmp_path / f"svc-{name}-{len(started)}"
        data.mkdir()
        svc = private_service(name, services, str(data))
        svc.start()
        started.append(svc)
        env = private_env(name, services, svc.port)
        config = make_config(name, env, **settings)
        protocol = _PROTOCOL[name]
        bucket = f"flyte-kill-{uuid.uuid4().hex[:8]}"
        # A freshly started emulator can answer its readiness URL a moment before its API takes
        # requests (SeaweedFS's S3 gateway waits for the filer); on a loaded CI machine that
        # moment is seconds. Retry the bucket creation until the service settles.
        deadline = time.monotonic() + 60
        while True:
            try:
                create_bucket(config, protocol, bucket)
                break
            except Exception:
                if time.monotonic() > deadline or svc.proc is None or svc.proc.poll() is not None:
                    raise
                time.sleep(0.5)
        b = Backend(name=name, protocol=protocol, config=config, bucket=bucket, services=env)
        b.root = f"{protocol}://{bucket}/t"
        flyte_storage.configure(config)
        return PrivateBackend(svc, b)

    yield make
    for svc in started:
        svc.kill()
    flyte_storage.configure(None)


class RssSampler:
    """Samples this process's resident memory in a thread; `peak_growth` in bytes."""

    def __init__(self) -> None:
        self.baseline = self._rss()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_growth(self) -> int:
        return self.peak - self.baseline


@pytest.fixture
def rss() -> Callable[[], RssSampler]:
    """`with rss() as m: ...` then `m.peak_growth`: peak resident-memory growth in bytes."""
    return RssSampler
