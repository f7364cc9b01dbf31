"""Conversion workloads shared by both sides of the type benchmark.

Imported by `bench_types.py` in our interpreter and, through a subprocess, by the reference SDK's
interpreter; it uses only the standard library and pydantic, and takes the `TypeEngine` to
measure as an argument (both SDKs expose the same `to_literal_type` / `to_literal` /
`to_python_value` API).
"""

from __future__ import annotations

import dataclasses
import enum
import gc
import time
from typing import Any, Optional

from pydantic import BaseModel


class Kind(enum.Enum):
    A = "a"
    B = "b"


@dataclasses.dataclass
class Inner:
    x: int
    label: str = "in"


@dataclasses.dataclass
class Record:
    id: int
    score: float
    name: str
    tags: list[str]
    inner: Inner
    note: Optional[str] = None


class Model(BaseModel):
    id: int
    score: float
    name: str
    tags: list[str]
    kind: Kind = Kind.A
    note: Optional[str] = None


def workloads(scale: float = 1.0) -> list[tuple[str, Any, Any, int, bool]]:
    """Return `(name, type, value, n_values, per_value)`; per_value converts each item alone."""
    n_int = int(1_000_000 * scale)
    n_dict = int(100_000 * scale)
    n_obj = int(10_000 * scale)
    records = [Record(i, i / 3, f"r{i}", ["a", "b"], Inner(i)) for i in range(n_obj)]
    models = [Model(id=i, score=i / 3, name=f"m{i}", tags=["a", "b"]) for i in range(n_obj)]
    return [
        ("list[int] x1e6", list[int], list(range(n_int)), n_int, False),
        (
            "dict[str, float] x1e5",
            dict[str, float],
            {f"k{i}": i / 7 for i in range(n_dict)},
            n_dict,
            False,
        ),
        ("list[dataclass] x1e4", list[Record], records, n_obj, False),
        ("dataclass x1e4 calls", Record, records, n_obj, True),
        ("list[pydantic] x1e4", list[Model], models, n_obj, False),
        ("pydantic x1e4 calls", Model, models, n_obj, True),
    ]


async def measure(engine: Any, scale: float = 1.0, repeats: int = 2) -> dict[str, dict[str, float]]:
    """Return values/second per workload and direction (best of `repeats`)."""
    results: dict[str, dict[str, float]] = {}
    for name, tp, value, n, per_value in workloads(scale):
        lt = engine.to_literal_type(tp)
        best_enc = best_dec = float("inf")
        for _ in range(repeats):
            gc.collect()
            t0 = time.perf_counter()
            if per_value:
                lits = [await engine.to_literal(v, tp, lt) for v in value]
            else:
                lit = await engine.to_literal(value, tp, lt)
            t1 = time.perf_counter()
            if per_value:
                back = [await engine.to_python_value(x, tp) for x in lits]
            else:
                back = await engine.to_python_value(lit, tp)
            t2 = time.perf_counter()
            best_enc = min(best_enc, t1 - t0)
            best_dec = min(best_dec, t2 - t1)
            if back != value:
                raise AssertionError(f"{name}: the round trip changed the value")
        results[name] = {"encode": n / best_enc, "decode": n / best_dec}
    return results
