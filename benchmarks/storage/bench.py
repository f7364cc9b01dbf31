"""Throughput of flyte_storage vs plain fsspec on the local emulators.

Scenarios, per backend (S3/moto, S3/SeaweedFS, GCS/fake-gcs-server, Azure/Azurite):

* 200 files of 1 MB: `put(dir, recursive=True)` / `get(prefix, recursive=True)` vs fsspec's
  `fs.put(..., recursive=True)` / `fs.get(..., recursive=True)`;
* one 500 MB file: `put` / `get` vs fsspec's `fs.put_file` / `fs.get_file`.

Both sides use the same filesystem settings (`flyte_storage.storage_options`), so the difference
is what flyte_storage adds: parallel ranged downloads, sized multipart uploads, bounded batches,
atomic local writes. Data is written to and read from disk in streaming fashion (never held
whole in memory).

Usage:
    scripts/services/start.sh
    FLYTE_TEST_SERVICES_ENV=/tmp/flyte-services/env python benchmarks/storage/bench.py \
        [--backends s3-moto,gcs] [--small-count 200] [--small-mb 1] [--big-mb 500]
"""

from __future__ import annotations

import argparse
import functools
import os
import shlex
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Plain gcsfs otherwise probes each bucket over gRPC for a minute against an emulator.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

import fsspec  # noqa: E402

import flyte_storage  # noqa: E402
from flyte_storage import ABFS, GCS, S3, StorageConfig  # noqa: E402

MB = 1_000_000
BACKENDS = ("s3-moto", "s3-seaweedfs", "gcs", "azure")


def parse_env_file(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                parts = shlex.split(value) if value else [""]
                out[key] = parts[0] if parts else ""
    return out


def config_for(name: str, env: dict[str, str]) -> tuple[str, StorageConfig]:
    if name == "s3-moto":
        return "s3", StorageConfig(
            s3=S3(
                endpoint=env["FLYTE_TEST_S3_ENDPOINT"],
                access_key_id=env["FLYTE_TEST_S3_ACCESS_KEY_ID"],
                secret_access_key=env["FLYTE_TEST_S3_SECRET_ACCESS_KEY"],
                addressing_style="path",
            )
        )
    if name == "s3-seaweedfs":
        return "s3", StorageConfig(
            s3=S3(
                endpoint=env["FLYTE_TEST_SEAWEEDFS_ENDPOINT"],
                access_key_id=env["FLYTE_TEST_SEAWEEDFS_ACCESS_KEY_ID"],
                secret_access_key=env["FLYTE_TEST_SEAWEEDFS_SECRET_ACCESS_KEY"],
                addressing_style="path",
            )
        )
    if name == "gcs":
        return "gs", StorageConfig(gcs=GCS.for_emulator(env["FLYTE_TEST_GCS_ENDPOINT"]))
    if name == "azure":
        return "abfs", StorageConfig(abfs=ABFS.for_azurite(env["FLYTE_TEST_AZURE_ENDPOINT"]))
    raise SystemExit(f"unknown backend {name}")


def write_random(path: str, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            piece = os.urandom(min(8 * 2**20, left))
            f.write(piece)
            left -= len(piece)


@dataclass
class Row:
    backend: str
    scenario: str
    op: str
    size: int
    ours: float
    plain: float


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


PEAKS: dict[str, int] = {}


def timed(fn: Callable[[], Any], label: str = "") -> float:
    """Run `fn`; return seconds. Records the peak RSS growth under `label`."""
    base = _rss()
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.005):
            peak[0] = max(peak[0], _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        fn()
    finally:
        elapsed = time.perf_counter() - start
        stop.set()
        sampler.join()
    if label:
        PEAKS[label] = max(PEAKS.get(label, 0), peak[0] - base)
    return elapsed


def pair(
    ours: Callable[[int], Any], plain: Callable[[int], Any], repeat: int, label: str
) -> tuple[float, float]:
    """Best time of each side over `repeat` rounds, alternating which side goes first."""
    best_ours = best_plain = float("inf")
    for i in range(repeat):
        order = [("o", ours), ("p", plain)] if i % 2 == 0 else [("p", plain), ("o", ours)]
        for side, fn in order:
            t = timed(functools.partial(fn, i), label=f"{label}/{side}")
            if side == "o":
                best_ours = min(best_ours, t)
            else:
                best_plain = min(best_plain, t)
    return best_ours, best_plain


def bench_backend(
    name: str,
    env: dict[str, str],
    work: str,
    small_count: int,
    small_mb: int,
    big_mb: int,
    repeat: int,
) -> list[Row]:
    protocol, cfg = config_for(name, env)
    flyte_storage.configure(cfg)
    plain = fsspec.filesystem(protocol, **flyte_storage.storage_options(protocol))
    bucket = f"bench-{uuid.uuid4().hex[:10]}"
    flyte_storage.get_filesystem(protocol).mkdir(bucket)
    root = f"{protocol}://{bucket}"
    rows: list[Row] = []

    # Warm both clients up (connections, credentials, bucket lookups) before timing anything.
    warm = os.path.join(work, "warm.bin")
    write_random(warm, 1000)
    flyte_storage.put_sync(warm, f"{root}/warm/a")
    flyte_storage.get_sync(f"{root}/warm/a", warm + ".1")
    plain.put_file(warm, f"{root}/warm/b")
    plain.get_file(f"{root}/warm/b", warm + ".2")

    # -- many small files ---------------------------------------------------------------
    scenario = f"{small_count} x {small_mb} MB"
    small_dir = os.path.join(work, "small")
    os.makedirs(small_dir, exist_ok=True)
    for i in range(small_count):
        write_random(os.path.join(small_dir, f"f{i:04d}.bin"), small_mb * MB)
    total_small = small_count * small_mb * MB
    t_ours, t_plain = pair(
        lambda i: flyte_storage.put_sync(small_dir, f"{root}/ours-small-{i}", recursive=True),
        lambda i: plain.put(small_dir, f"{root}/plain-small-{i}", recursive=True),
        repeat,
        f"{name}/{scenario}/put",
    )
    rows.append(Row(name, scenario, "put", total_small, t_ours, t_plain))
    shutil.rmtree(small_dir)

    def get_ours(i: int) -> None:
        out = os.path.join(work, f"small-ours-{i}")
        flyte_storage.get_sync(f"{root}/ours-small-{i}", out, recursive=True)
        shutil.rmtree(out)

    def get_plain(i: int) -> None:
        out = os.path.join(work, f"small-plain-{i}")
        plain.invalidate_cache()
        plain.get(f"{root}/plain-small-{i}/", out + "/", recursive=True)
        shutil.rmtree(out)

    t_ours, t_plain = pair(get_ours, get_plain, repeat, f"{name}/{scenario}/get")
    rows.append(Row(name, scenario, "get", total_small, t_ours, t_plain))

    # -- one big file -------------------------------------------------------------------
    scenario = f"1 x {big_mb} MB"
    big = os.path.join(work, "big.bin")
    write_random(big, big_mb * MB)
    t_ours, t_plain = pair(
        lambda i: flyte_storage.put_sync(big, f"{root}/ours-big-{i}.bin"),
        lambda i: plain.put_file(big, f"{root}/plain-big-{i}.bin"),
        repeat,
        f"{name}/{scenario}/put",
    )
    rows.append(Row(name, scenario, "put", big_mb * MB, t_ours, t_plain))
    os.unlink(big)

    def big_get_ours(i: int) -> None:
        flyte_storage.get_sync(f"{root}/ours-big-{i}.bin", big + ".ours")
        os.unlink(big + ".ours")

    def big_get_plain(i: int) -> None:
        plain.get_file(f"{root}/plain-big-{i}.bin", big + ".plain")
        os.unlink(big + ".plain")

    t_ours, t_plain = pair(big_get_ours, big_get_plain, repeat, f"{name}/{scenario}/get")
    rows.append(Row(name, scenario, "get", big_mb * MB, t_ours, t_plain))

    flyte_storage.rm_sync(root, recursive=True)
    return rows


def print_table(rows: list[Row]) -> None:
    header = (
        "backend",
        "scenario",
        "op",
        "flyte_storage",
        "plain fsspec",
        "speed-up",
        "peak RSS +MiB (ours/plain)",
    )
    lines = [header]
    for r in rows:
        key = f"{r.backend}/{r.scenario}/{r.op}"
        lines.append(
            (
                r.backend,
                r.scenario,
                r.op,
                f"{r.size / MB / r.ours:7.1f} MB/s ({r.ours:5.2f}s)",
                f"{r.size / MB / r.plain:7.1f} MB/s ({r.plain:5.2f}s)",
                f"{r.plain / r.ours:4.2f}x",
                f"{PEAKS.get(key + '/o', 0) >> 20} / {PEAKS.get(key + '/p', 0) >> 20}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if n == 0:
            print("-+-".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--small-count", type=int, default=200)
    parser.add_argument("--small-mb", type=int, default=1)
    parser.add_argument("--big-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2, help="rounds per measurement (best kept)")
    args = parser.parse_args()
    env_path = os.environ.get("FLYTE_TEST_SERVICES_ENV")
    if not env_path:
        raise SystemExit(
            "set FLYTE_TEST_SERVICES_ENV to the file printed by scripts/services/start.sh"
        )
    env = parse_env_file(env_path)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="flyte-bench-") as work:
        for name in args.backends.split(","):
            print(f"... {name}", flush=True)
            rows += bench_backend(
                name, env, work, args.small_count, args.small_mb, args.big_mb, args.repeat
            )
    print()
    print_table(rows)


if __name__ == "__main__":
    main()
