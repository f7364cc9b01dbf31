"""Sandboxed orchestrators: restricted pure-Python control flow run by pydantic-monty.

An orchestrator is a task whose body runs in Monty, a Python interpreter (written in Rust) that
executes in a worker subprocess with no file system, no network, no environment, no
subprocesses and only a handful of pure standard-library modules, under limits on run time,
memory and recursion depth. Its calls to tasks are *bridged*: the interpreter pauses, the host
runs the real task through the normal call path (a child action of the run, with its type
conversion, cache and retries) and resumes the interpreter with the result.

```python
env = flyte.TaskEnvironment(name="orch")

@env.task
def add(x: int, y: int) -> int:
    return x + y

@env.sandbox.orchestrator(timeout_ms=2_000)
def total(xs: list[int]) -> int:
    t = 0
    for x in xs:
        t = add(t, x)
    return t

pipeline = flyte.sandbox.orchestrator_from_str(
    "add(x, y) * 2", inputs={"x": int, "y": int}, output=int, tasks=[add]
)
```

A sync task called from sandboxed code returns its value; an async task is awaited
(`await fetch(x)`); `flyte_map("task_name", xs, ...)` fans a task out as `flyte.map` does.
Inputs and outputs are checked against the declared types at the boundary, and only values the
sandbox can represent cross it: `None`, `bool`, `int`, `float`, `str`, `bytes`, lists, tuples,
dicts, sets of those, and `File` / `Dir` / `DataFrame` as opaque handles.

Everything sandboxed code can do wrong ends in a `SandboxError` subclass that names the problem
(`SandboxImportError`, `SandboxAccessError`, `SandboxTimeoutError`, `SandboxMemoryError`,
`SandboxRecursionError`, `SandboxSyntaxError`, `SandboxTypeError`, `SandboxExecutionError`); the
host process is never at risk (a crashed worker is replaced).

Needs the optional dependency: `pip install 'flyte-runtime[sandbox]'` (pydantic-monty).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import logging
import sys
import textwrap
import threading
import types
import typing
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Optional, Union, cast

from flyte_models import AsyncFunctionTaskTemplate, NativeInterface, TaskTemplate
from flyte_models import errors as ferr

# Not re-exported by flyte_models yet (the hook is new); see the README of flyte-runtime.
from flyte_models._environment import TaskEnvironment, set_sandbox_provider

__all__ = [
    "ORCHESTRATOR_SYNTAX_PROMPT",
    "CodeTaskTemplate",
    "SandboxAccessError",
    "SandboxCrashedError",
    "SandboxError",
    "SandboxExecutionError",
    "SandboxImportError",
    "SandboxLimitError",
    "SandboxMemoryError",
    "SandboxNamespace",
    "SandboxRecursionError",
    "SandboxSyntaxError",
    "SandboxTimeoutError",
    "SandboxTypeError",
    "SandboxUnavailableError",
    "SandboxViolationError",
    "SandboxedConfig",
    "SandboxedTaskTemplate",
    "orchestrate_local",
    "orchestrator_from_str",
]

logger = logging.getLogger("flyte_runtime")

ORCHESTRATOR_SYNTAX_PROMPT = """\
Rules for sandboxed orchestration code (it runs in the Monty interpreter, not CPython):
- The code orchestrates: control flow, small data shaping, and calls to the tasks it is given.
  Heavy work belongs in those tasks.
- Call a task by its name like a function: `add(1, 2)`. Await async tasks: `await fetch(x)`.
- `flyte_map("task_name", xs, ys, concurrency=0)` calls a task once per element, in parallel,
  and returns the list of results.
- The last expression of the code is its result (or `return` from the decorated function).
- No file, network, environment or process access; `import` only pure modules such as `math`,
  `re`, `json`, `dataclasses`, `typing`, `asyncio`.
- Not supported: `del` statements, generators (`yield`).
- Values in and out: None, bool, int, float, str, bytes, list, tuple, dict, set, and File, Dir,
  DataFrame handles (pass them on; they cannot be opened here).
"""

_INSTALL_HINT = "install the sandbox extra: pip install 'flyte-runtime[sandbox]' (pydantic-monty)"


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


class SandboxError(ferr.RuntimeUserError):
    """Base of every error from sandboxed code or its boundary (`code` is the class name)."""

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        ferr.RuntimeUserError.__init__(self, code or type(self).__name__, message)


class SandboxUnavailableError(SandboxError):
    """pydantic-monty (or its `monty` worker binary) is not installed."""


class SandboxSyntaxError(SandboxError):
    """The sandboxed code does not parse, or uses syntax the sandbox does not support."""


class SandboxTypeError(SandboxError, TypeError):
    """A value or declared type that cannot cross the sandbox boundary, or a failed type check."""


class SandboxViolationError(SandboxError, ferr.NonRecoverableError):
    """Sandboxed code tried something the sandbox forbids (retrying cannot help)."""


class SandboxImportError(SandboxViolationError):
    """Sandboxed code imported a module the sandbox does not provide (I/O, network, OS, ...)."""


class SandboxAccessError(SandboxViolationError):
    """Sandboxed code tried to reach files, the environment, the network or the OS."""


class SandboxLimitError(SandboxError, ferr.NonRecoverableError):
    """Sandboxed code exceeded one of its limits (retrying cannot help)."""


class SandboxTimeoutError(SandboxLimitError):
    """Sandboxed code ran longer than `timeout_ms` (time spent in called tasks is not counted)."""


class SandboxMemoryError(SandboxLimitError):
    """Sandboxed code allocated more than `max_memory` bytes."""


class SandboxRecursionError(SandboxLimitError):
    """Sandboxed code recursed deeper than `max_stack_depth` frames."""


class SandboxExecutionError(SandboxError):
    """Sandboxed code raised an exception.

    Attributes:
        exc_type: The name of the exception type raised in the sandbox (e.g. `ValueError`).
        traceback_text: The sandbox's traceback.
    """

    def __init__(self, message: str, exc_type: str = "", traceback_text: str = "") -> None:
        super().__init__(message, code=exc_type or None)
        self.exc_type = exc_type
        self.traceback_text = traceback_text


class SandboxCrashedError(SandboxError):
    """The sandbox worker process died (it is replaced; the host is unaffected)."""


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxedConfig:
    """Limits of a sandboxed orchestrator.

    Args:
        max_memory: Heap limit of the sandboxed code, in bytes (default 50 MiB).
        max_stack_depth: Recursion limit, in frames (default 256).
        timeout_ms: Run-time limit of the sandboxed code itself, in milliseconds (default 30 s);
            time spent in the tasks it calls is not counted (give those their own `timeout`).
        type_check: Check the code statically against the declared inputs and the signatures
            of the tasks it may call before running it.
        max_output_bytes: How much `print` output is passed on to the task's log (default 1 MiB);
            the rest is dropped with a notice.
    """

    max_memory: int = 50 * 1024 * 1024
    max_stack_depth: int = 256
    timeout_ms: int = 30_000
    type_check: bool = True
    max_output_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_memory", "max_stack_depth", "timeout_ms", "max_output_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"SandboxedConfig.{name} must be a positive int, got {value!r}")
        if not isinstance(self.type_check, bool):
            raise TypeError(f"SandboxedConfig.type_check must be a bool, got {self.type_check!r}")


# ---------------------------------------------------------------------------------------------
# The type boundary
# ---------------------------------------------------------------------------------------------

_PRIMITIVES: tuple[type, ...] = (bool, int, float, str, bytes, type(None))
_COLLECTIONS: tuple[type, ...] = (list, tuple, dict, set, frozenset)
_IO_TAG = "__flyte_io__"
_UNION_TYPES: tuple[Any, ...] = (Union, getattr(types, "UnionType", Union))


def _io_types() -> dict[str, type]:
    from flyte_types.io import DataFrame, Dir, File

    return {"File": File, "Dir": Dir, "DataFrame": DataFrame}


def _is_io_type(tp: Any) -> bool:
    base = typing.get_origin(tp) or tp
    return isinstance(base, type) and any(issubclass(base, io) for io in _io_types().values())


def _allowed_type(tp: Any) -> bool:
    if tp is Any or tp is inspect.Parameter.empty or tp is None or tp in _PRIMITIVES:
        return True
    if tp in _COLLECTIONS:
        return True
    origin = typing.get_origin(tp)
    if origin in _UNION_TYPES:
        return all(_allowed_type(a) for a in typing.get_args(tp))
    if origin in _COLLECTIONS:
        return all(a is Ellipsis or _allowed_type(a) for a in typing.get_args(tp))
    return _is_io_type(tp)


def _type_name(tp: Any) -> str:
    if tp is type(None) or tp is None:
        return "None"
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def validate_interface(inputs: dict[str, Any], outputs: dict[str, Any], owner: str) -> None:
    """Check that every declared input and output type can cross the sandbox boundary.

    Raises:
        SandboxTypeError: Naming the first input or output whose type is not supported.
    """
    for kind, items in (("input", {k: v[0] for k, v in inputs.items()}), ("output", outputs)):
        for name, tp in items.items():
            if not _allowed_type(tp):
                raise SandboxTypeError(
                    f"{owner}: {kind} {name!r} has type {_type_name(tp)}, which cannot cross the "
                    "sandbox boundary; use None, bool, int, float, str, bytes, list, tuple, dict, "
                    "set (of those) or File/Dir/DataFrame, and convert other values in a task"
                )


def check_value(value: Any, tp: Any, where: str) -> None:
    """Check `value` against the declared type `tp` (deeply for containers).

    Raises:
        SandboxTypeError: Naming `where` (e.g. `input 'x'`), the expected type and the value.
    """
    if not _matches(value, tp):
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        raise SandboxTypeError(
            f"{where} must be {_type_name(tp)}, got {type(value).__name__} {shown}"
        )


def _matches(value: Any, tp: Any) -> bool:
    if tp is Any or tp is inspect.Parameter.empty or tp is object:
        return True
    if tp is None or tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    origin = typing.get_origin(tp)
    if origin in _UNION_TYPES:
        return any(_matches(value, a) for a in typing.get_args(tp))
    args = typing.get_args(tp)
    base = origin or tp
    if base in (list, set, frozenset):
        return isinstance(value, base) and (not args or all(_matches(v, args[0]) for v in value))
    if base is tuple:
        if not isinstance(value, tuple):
            return False
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(args) == len(value) and all(
            _matches(v, a) for v, a in zip(value, args, strict=False)
        )
    if base is dict:
        if not isinstance(value, dict):
            return False
        if not args:
            return True
        return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
    if isinstance(base, type):
        return isinstance(value, base)
    return True


def to_sandbox(value: Any, where: str) -> Any:
    """Convert a host value into one the sandbox holds (`File`/`Dir`/`DataFrame` as tagged dicts).

    Raises:
        SandboxTypeError: For a value the sandbox cannot represent.
    """
    if isinstance(value, _PRIMITIVES):
        return value
    if isinstance(value, list):
        return [to_sandbox(v, where) for v in value]
    if isinstance(value, tuple):
        return tuple(to_sandbox(v, where) for v in value)
    if isinstance(value, set | frozenset):
        return type(value)(to_sandbox(v, where) for v in value)
    if isinstance(value, dict):
        return {to_sandbox(k, where): to_sandbox(v, where) for k, v in value.items()}
    for tag, io in _io_types().items():
        if isinstance(value, io):
            return {_IO_TAG: tag, **cast(Any, value).model_dump(mode="json")}
    raise SandboxTypeError(
        f"{where} is a {type(value).__name__}, which cannot enter the sandbox; only None, bool, "
        "int, float, str, bytes, list, tuple, dict, set and File/Dir/DataFrame can"
    )


def from_sandbox(value: Any) -> Any:
    """Convert a sandbox value back (tagged dicts become `File`/`Dir`/`DataFrame` again)."""
    if isinstance(value, dict):
        tag = value.get(_IO_TAG)
        if isinstance(tag, str) and tag in _io_types():
            payload = {k: v for k, v in value.items() if k != _IO_TAG}
            return cast(Any, _io_types()[tag]).model_validate(payload)
        return {k: from_sandbox(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_sandbox(v) for v in value]
    if isinstance(value, tuple):
        return tuple(from_sandbox(v) for v in value)
    return value


# ---------------------------------------------------------------------------------------------
# Source preparation
# ---------------------------------------------------------------------------------------------


def extract_source(func: Callable[..., Any]) -> tuple[str, list[str]]:
    """The code Monty runs for a decorated function, and the function's parameter names.

    The code is the function's definition (decorators removed) followed by a call of it with its
    parameters (awaited for an `async def`), so the call's value is the code's result.

    Raises:
        SandboxSyntaxError: For generators, lambdas, or functions whose source is unavailable.
    """
    name = getattr(func, "__qualname__", repr(func))
    if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
        raise SandboxSyntaxError(
            f"{name} is a generator; a sandboxed orchestrator must return its result"
        )
    if getattr(func, "__name__", "") == "<lambda>":
        raise SandboxSyntaxError(f"{name}: a lambda cannot be a sandboxed orchestrator; use def")
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError) as e:
        raise SandboxSyntaxError(
            f"the source of {name} is not available ({e}); define it in a file, or use "
            "flyte.sandbox.orchestrator_from_str with the code as a string"
        ) from None
    lines = source.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.lstrip().startswith(("def ", "async def ")):
            source = "".join(lines[i:])
            break
    params = [
        p.name
        for p in inspect.signature(func).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    call = f"{func.__name__}({', '.join(f'{p}={p}' for p in params)})"
    if inspect.iscoroutinefunction(func):
        call = f"await {call}"
    return f"{source.rstrip()}\n{call}\n", params


def prepare_source(source: str) -> str:
    """Dedent a code string; empty code evaluates to None."""
    if not isinstance(source, str):
        raise TypeError(f"sandboxed code must be a str, got {source!r}")
    code = textwrap.dedent(source).strip()
    return code + "\n" if code else "None\n"


def _code_names(code: types.CodeType) -> set[str]:
    """Names a function's code uses, including string constants (`flyte_map("task", ...)`)."""
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
        elif isinstance(const, str) and const.isidentifier():
            names.add(const)
    return names


def _is_bridgeable(obj: Any) -> bool:
    """Tasks, and `@flyte.trace` functions, are called on the host from sandboxed code."""
    if isinstance(obj, TaskTemplate):
        return True
    return (
        callable(obj)
        and getattr(obj, "__wrapped__", None) is not None
        and not isinstance(obj, type)
    )


def discover_functions(func: Callable[..., Any]) -> dict[str, Any]:
    """The tasks (and traced functions) the body of `func` refers to, by the name it uses."""
    code = getattr(func, "__code__", None)
    if code is None:
        return {}
    scope: dict[str, Any] = dict(getattr(func, "__globals__", {}))
    closure = getattr(func, "__closure__", None) or ()
    for name, cell in zip(code.co_freevars, closure, strict=False):
        try:
            scope[name] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    return {
        name: scope[name]
        for name in sorted(_code_names(code))
        if name in scope and _is_bridgeable(scope[name])
    }


def functions_by_name(tasks: Optional[Iterable[Any]]) -> dict[str, Any]:
    """Name the tasks given to `orchestrator_from_str` (a task by its function's name).

    Raises:
        TypeError: For something that is not callable.
        ValueError: For two entries with the same name.
    """
    out: dict[str, Any] = {}
    for t in tasks or ():
        if isinstance(t, TaskTemplate):
            name = getattr(getattr(t, "func", None), "__name__", None) or t.short_name
        elif callable(t):
            name = getattr(t, "__name__", None)
        else:
            raise TypeError(f"tasks= takes tasks or functions, got {t!r}")
        if not name or not str(name).isidentifier():
            raise ValueError(f"cannot call {t!r} from sandboxed code: it has no usable name")
        if name in out:
            raise ValueError(f"two entries of tasks= are named {name!r}; names must be unique")
        out[str(name)] = t
    return out


def _stub_type(tp: Any) -> str:
    if tp is inspect.Parameter.empty or tp is Any:
        return "Any"
    if tp is None or tp is type(None):
        return "None"
    if tp in _PRIMITIVES or tp in _COLLECTIONS:
        return str(tp.__name__)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in _UNION_TYPES:
        return " | ".join(_stub_type(a) for a in args)
    if origin in _COLLECTIONS:
        inner = ", ".join("..." if a is Ellipsis else _stub_type(a) for a in args)
        return f"{origin.__name__}[{inner}]" if inner else origin.__name__
    return "Any"  # File/Dir/DataFrame handles are dicts in the sandbox


def type_stubs(inputs: dict[str, Any], functions: dict[str, Any]) -> Optional[str]:
    """Stub declarations for the static type check: the inputs and the callable tasks.

    Returns None when a task's signature cannot be described (the check is then skipped).
    """
    lines = ["from typing import Any", ""]
    for name, tp in inputs.items():
        lines.append(f"{name}: {_stub_type(tp)}")
    lines.append(
        "def flyte_map(task_name: str, *iterables: Any, concurrency: int = 0, "
        "group_name: str | None = None, return_exceptions: bool = False) -> list[Any]: ..."
    )
    for name, fn in functions.items():
        if not isinstance(fn, TaskTemplate):
            return None
        iface = fn.native_interface
        params = []
        for pname, (ptype, default) in iface.inputs.items():
            params.append(
                f"{pname}: {_stub_type(ptype)}"
                + ("" if default is inspect.Parameter.empty else " = ...")
            )
        outs = list(iface.outputs.values())
        ret = (
            "None"
            if not outs
            else (
                _stub_type(outs[0])
                if len(outs) == 1
                else "tuple[" + ", ".join(_stub_type(o) for o in outs) + "]"
            )
        )
        is_async = inspect.iscoroutinefunction(getattr(fn, "func", None))
        lines.append(f"{'async ' if is_async else ''}def {name}({', '.join(params)}) -> {ret}: ...")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# The worker pool and the bridge
# ---------------------------------------------------------------------------------------------

_POOL: Any = None
_POOL_LOCK = threading.Lock()


def _monty() -> Any:
    try:
        import pydantic_monty  # pants: no-infer-dep (optional: the sandbox extra)
    except ImportError:
        raise SandboxUnavailableError(f"pydantic-monty is not installed; {_INSTALL_HINT}") from None
    return pydantic_monty


def _find_binary() -> Optional[str]:
    """The `monty` worker binary, also where an installer left scripts off PATH (e.g. a pex)."""
    import os
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        dist = distribution("pydantic-monty-runtime")
    except PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.name in ("monty", "monty.exe"):
            path = os.path.normpath(os.fspath(cast(Any, dist.locate_file(f))))
            if os.path.isfile(path):
                return path
    return None


def _pool() -> Any:
    """The process-wide Monty worker pool (started on first use, closed at exit)."""
    global _POOL
    if _POOL is not None:
        return _POOL
    pm = _monty()
    with _POOL_LOCK:
        if _POOL is None:
            import os

            try:
                binary = None if os.environ.get("MONTY_BIN") else _find_binary()
                pool = pm.Monty(binary_path=binary, min_processes=1, max_processes=4)
                pool.__enter__()
            except (FileNotFoundError, OSError) as e:
                raise SandboxUnavailableError(
                    f"the pydantic-monty worker cannot start: {e}; {_INSTALL_HINT}"
                ) from None
            atexit.register(_close_pool)
            _POOL = pool
    return _POOL


def _close_pool() -> None:
    global _POOL
    pool, _POOL = _POOL, None
    if pool is not None:
        try:
            pool.__exit__(None, None, None)
        except Exception:  # pragma: no cover - best effort at exit
            pass


class _Printer:
    """Pass sandbox `print` output on to our stdout/stderr, up to a byte budget."""

    def __init__(self, budget: int, label: str) -> None:
        self._left = budget
        self._label = label
        self._warned = False

    def __call__(self, stream: str, text: str) -> None:
        out = sys.stderr if stream == "stderr" else sys.stdout
        data = text.encode("utf-8", "replace")
        if self._left <= 0:
            if not self._warned:
                self._warned = True
                out.write(f"\n[{self._label}: sandbox output truncated]\n")
            return
        if len(data) > self._left:
            text = data[: self._left].decode("utf-8", "ignore")
        self._left -= len(data)
        out.write(text)


@dataclass
class _Run:
    """One execution of sandboxed code: drives the worker and bridges calls to the host."""

    label: str
    code: str
    inputs: dict[str, Any]
    functions: dict[str, Any]
    config: SandboxedConfig
    stubs: Optional[str]
    loop: asyncio.AbstractEventLoop
    cancelled: threading.Event = field(default_factory=threading.Event)
    host_errors: list[BaseException] = field(default_factory=list)
    inflight: set[concurrent.futures.Future[Any]] = field(default_factory=set)

    def cancel(self) -> None:
        """Stop bridging: calls in flight are cancelled, the worker stops at its next pause."""
        self.cancelled.set()
        for fut in list(self.inflight):
            fut.cancel()

    # -- host side -----------------------------------------------------------------------------

    async def _call(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        if name == "flyte_map":
            return await self._flyte_map(args, kwargs)
        fn = self.functions.get(name)
        if fn is None:
            raise NameError(f"name {name!r} is not defined")
        args = [from_sandbox(a) for a in args]
        kwargs = {k: from_sandbox(v) for k, v in kwargs.items()}
        if isinstance(fn, TaskTemplate):
            result = await fn.aio(*args, **kwargs)
        else:
            result = fn(*args, **kwargs)
            while inspect.isawaitable(result):
                result = await result
        return to_sandbox(result, f"the result of {name}()")

    async def _flyte_map(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        from flyte_runtime._compose import map as flyte_map

        if not args or not isinstance(args[0], str):
            raise TypeError("flyte_map(task_name, *iterables): the first argument is a task name")
        task = self.functions.get(args[0])
        if task is None:
            known = ", ".join(sorted(self.functions)) or "none"
            raise NameError(f"flyte_map: no task named {args[0]!r} (available: {known})")
        unknown = set(kwargs) - {"concurrency", "group_name", "return_exceptions"}
        if unknown:
            raise TypeError(f"flyte_map got unexpected keyword arguments {sorted(unknown)}")
        iterables = [from_sandbox(a) for a in args[1:]]
        opts = {"return_exceptions": False, **kwargs}
        results: list[Any] = []
        if isinstance(task, TaskTemplate):
            async for r in flyte_map.aio(task, *iterables, **opts):
                results.append(r)
        else:
            for row in zip(*iterables, strict=False):
                r = task(*row)
                while inspect.isawaitable(r):
                    r = await r
                results.append(r)
        for r in results:
            if isinstance(r, BaseException):
                raise r
        return to_sandbox(results, f"the results of flyte_map({args[0]!r})")

    # -- worker side (runs in a thread) --------------------------------------------------------

    def _host(self, name: str, args: Any, kwargs: Any) -> concurrent.futures.Future[Any]:
        if self.cancelled.is_set():
            raise asyncio.CancelledError()
        fut = asyncio.run_coroutine_threadsafe(
            self._call(name, list(args), dict(kwargs or {})), self.loop
        )
        self.inflight.add(fut)
        fut.add_done_callback(self.inflight.discard)
        return fut

    def _settle(self, fut: concurrent.futures.Future[Any]) -> dict[str, Any]:
        try:
            return {"return_value": fut.result()}
        except BaseException as e:  # the task's error is raised inside the sandbox
            if self.cancelled.is_set():
                raise
            self.host_errors.append(e)
            return {"exception": e if isinstance(e, Exception) else RuntimeError(str(e))}

    def drive(self) -> Any:
        pm = _monty()
        cfg = self.config
        limits = pm.ResourceLimits(
            max_feed_duration_secs=cfg.timeout_ms / 1000.0,
            max_memory=cfg.max_memory,
            max_recursion_depth=cfg.max_stack_depth,
            max_total_sleep_secs=cfg.timeout_ms / 1000.0,
        )
        checkout: dict[str, Any] = {"script_name": f"{self.label}.py", "limits": limits}
        if cfg.type_check and self.stubs is not None:
            checkout.update(
                type_check=True, type_check_stubs=self.stubs, type_check_format="concise"
            )
        pending: dict[int, concurrent.futures.Future[Any]] = {}
        with _pool().checkout(**checkout) as session:
            snap = session.feed_start(
                self.code,
                inputs=self.inputs or None,
                print_callback=_Printer(cfg.max_output_bytes, self.label),
            )
            while True:
                if self.cancelled.is_set():
                    raise asyncio.CancelledError()
                if isinstance(snap, pm.MontyComplete):
                    return snap.output
                if isinstance(snap, pm.NameLookupSnapshot):
                    snap = snap.resume()  # undefined: NameError in the sandbox
                elif isinstance(snap, pm.FunctionSnapshot):
                    if snap.is_os_function:
                        snap = snap.resume_not_handled()  # no OS access: PermissionError
                        continue
                    fut = self._host(snap.function_name, snap.args, snap.kwargs)
                    if snap.allow_eager_await:  # `await task(...)`: resolved as a future
                        pending[snap.call_id] = fut
                        snap = snap.resume({"future": ...})
                    else:
                        snap = snap.resume(self._settle(fut))
                elif isinstance(snap, pm.FutureSnapshot):
                    waiting = [pending[i] for i in snap.pending_call_ids if i in pending]
                    concurrent.futures.wait(waiting, return_when=concurrent.futures.FIRST_COMPLETED)
                    done = {
                        i: self._settle(pending.pop(i))
                        for i in list(snap.pending_call_ids)
                        if i in pending and pending[i].done()
                    }
                    snap = snap.resume(done)
                else:  # pragma: no cover - a snapshot kind this version does not know
                    raise SandboxError(f"unexpected sandbox state {type(snap).__name__}")

    # -- error translation ---------------------------------------------------------------------

    def translate(self, e: BaseException) -> BaseException:
        pm = _monty()
        if isinstance(e, SandboxError):
            return e
        if isinstance(e, pm.MontySyntaxError):
            return SandboxSyntaxError(f"{self.label}: the code does not parse: {e}")
        if isinstance(e, pm.MontyTypingError):
            report = str(e.display())
            if "unresolved-import" in report:
                return SandboxImportError(
                    f"{self.label}: the code imports a module the sandbox does not provide (it "
                    "has no I/O, network, OS or third-party modules); do that work in a task and "
                    f"call the task from the orchestrator:\n{report}"
                )
            if "invalid-syntax" in report:
                return SandboxSyntaxError(f"{self.label}: the code does not parse:\n{report}")
            if "Name `open` used when not defined" in report:
                return SandboxAccessError(
                    f"{self.label}: the sandbox has no file system (`open` does not exist "
                    f"there); read and write files in a task:\n{report}"
                )
            return SandboxTypeError(f"{self.label}: the type check failed:\n{report}")
        if isinstance(e, pm.MontyCrashedError):
            return SandboxCrashedError(f"{self.label}: the sandbox worker died: {e}")
        if isinstance(e, pm.MontyConversionError):
            return SandboxTypeError(f"{self.label}: a value cannot cross the boundary: {e}")
        if not isinstance(e, pm.MontyRuntimeError):
            return e
        inner = e.exception()
        kind = type(inner).__name__
        message = str(inner)
        for host in reversed(self.host_errors):  # a task's error, uncaught in the sandbox
            if type(host).__name__ == kind and str(host) == message:
                return host
        try:
            tb = str(e.display())
        except Exception:  # pragma: no cover
            tb = str(e)
        where = f"{self.label}: "
        if isinstance(inner, TimeoutError):
            return SandboxTimeoutError(
                f"{where}the sandboxed code exceeded its time limit of {self.config.timeout_ms} ms "
                f"({message}); simplify it or raise timeout_ms"
            )
        if isinstance(inner, MemoryError):
            return SandboxMemoryError(
                f"{where}the sandboxed code exceeded its memory limit of "
                f"{self.config.max_memory} bytes ({message}); move data-heavy work into a task "
                "or raise max_memory"
            )
        if isinstance(inner, RecursionError):
            return SandboxRecursionError(
                f"{where}the sandboxed code recursed deeper than max_stack_depth="
                f"{self.config.max_stack_depth} ({message})"
            )
        if isinstance(inner, ImportError):
            return SandboxImportError(
                f"{where}{message}: the sandbox provides no I/O, network, OS or third-party "
                "modules; do that work in a task and call the task from the orchestrator"
            )
        if isinstance(inner, PermissionError) or (
            isinstance(inner, RuntimeError) and "not supported in this environment" in message
        ):
            return SandboxAccessError(
                f"{where}the sandbox has no file system, environment or OS access ({kind}: "
                f"{message}); do that work in a task and call the task from the orchestrator"
            )
        if isinstance(inner, NotImplementedError) and "syntax" in message:
            return SandboxSyntaxError(f"{where}{message}")
        return SandboxExecutionError(f"{where}{kind}: {message}", exc_type=kind, traceback_text=tb)


async def run_sandboxed(
    code: str,
    inputs: dict[str, Any],
    functions: dict[str, Any],
    config: SandboxedConfig,
    *,
    label: str = "sandbox",
    input_types: Optional[dict[str, Any]] = None,
) -> Any:
    """Run `code` in the sandbox with `inputs`, bridging calls of `functions` to the host.

    Args:
        code: The code; its last expression is the result.
        inputs: Values bound as globals.
        functions: Tasks and functions the code may call, by name.
        config: The limits.
        label: A name for messages and tracebacks.
        input_types: Declared input types, for the static type check (None: no check).

    Returns:
        The code's result, converted back (`File`/`Dir`/`DataFrame` handles restored).

    Raises:
        SandboxError: A subclass naming what went wrong.
    """
    stubs = type_stubs(input_types, functions) if input_types is not None else None
    run = _Run(
        label=label.replace(".", "_"),
        code=code,
        inputs={k: to_sandbox(v, f"input {k!r}") for k, v in inputs.items()},
        functions=functions,
        config=config,
        stubs=stubs,
        loop=asyncio.get_running_loop(),
    )
    _pool()  # fail fast (and typed) when pydantic-monty is missing
    try:
        value = await asyncio.shield(asyncio.to_thread(run.drive))
    except asyncio.CancelledError:
        run.cancel()
        raise
    except BaseException as e:
        translated = run.translate(e)
        if translated is e:
            raise
        raise translated from None
    return from_sandbox(value)


# ---------------------------------------------------------------------------------------------
# Task templates
# ---------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class SandboxedTaskTemplate(AsyncFunctionTaskTemplate[Any, Any, Any]):
    """A task whose function body runs in the sandbox (what `@env.sandbox.orchestrator` makes).

    The tasks the body refers to are called on the host. `forward` (calling the task outside a
    run) runs the plain Python function instead, for debugging.
    """

    task_type: str = "sandboxed-python"
    plugin_config: Optional[SandboxedConfig] = None
    _source_code: str = field(default="", init=False, repr=False, compare=False)
    _input_names: list[str] = field(default_factory=list, init=False, repr=False, compare=False)
    _functions: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.plugin_config is None:
            self.plugin_config = SandboxedConfig()
        if not isinstance(self.plugin_config, SandboxedConfig):
            raise TypeError(
                f"{type(self).__name__}.plugin_config must be a SandboxedConfig, got "
                f"{self.plugin_config!r}"
            )
        self._prepare()

    def _prepare(self) -> None:
        validate_interface(self.interface.inputs, self.interface.outputs, self.name)
        self._source_code, self._input_names = extract_source(self.func)
        self._functions = discover_functions(self.func)

    @property
    def sandbox_source(self) -> str:
        """The code the sandbox runs."""
        return self._source_code

    @property
    def sandbox_functions(self) -> dict[str, Any]:
        """The tasks (and functions) sandboxed code may call, by name."""
        return dict(self._functions)

    def _bind(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        bound = self.interface.convert_to_kwargs(*args, **kwargs)
        for name, (tp, _default) in self.interface.inputs.items():
            if name in bound:
                check_value(bound[name], tp, f"{self.name}: input {name!r}")
        return dict(bound)

    def _check_output(self, value: Any) -> Any:
        outputs = list(self.interface.outputs.items())
        if len(outputs) == 1:
            name, tp = outputs[0]
            check_value(value, tp, f"{self.name}: the result")
        elif len(outputs) > 1:
            if not isinstance(value, tuple | list) or len(value) != len(outputs):
                raise SandboxTypeError(
                    f"{self.name}: the result must be a tuple of {len(outputs)} values, got "
                    f"{type(value).__name__}"
                )
            value = tuple(value)
            for (name, tp), v in zip(outputs, value, strict=False):
                check_value(v, tp, f"{self.name}: output {name!r}")
        return value

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Run `pre`, the body in the sandbox (type-checked at the boundary), and `post`."""
        from flyte_models import current_task_context, use_task_context

        inputs = self._bind(args, kwargs)
        ctx_data = await self.pre(**inputs)
        tctx = current_task_context()
        inner = tctx.replace(data=ctx_data) if tctx is not None and ctx_data else tctx
        config = cast(SandboxedConfig, self.plugin_config)
        with use_task_context(inner):
            value = await run_sandboxed(
                self._source_code,
                {k: inputs[k] for k in self._input_names if k in inputs},
                self._functions,
                config,
                label=self.short_name or self.name,
                input_types={k: v[0] for k, v in self.interface.inputs.items()},
            )
            value = self._check_output(value)
            await self.post(value)
        return value


@dataclass(kw_only=True)
class CodeTaskTemplate(SandboxedTaskTemplate):
    """A sandboxed task made from a code string (`orchestrator_from_str`).

    It has no Python function to fall back on: calling it outside a run raises.
    """

    source: str = ""
    functions: dict[str, Any] = field(default_factory=dict, repr=False)

    def _prepare(self) -> None:
        validate_interface(self.interface.inputs, self.interface.outputs, self.name)
        self._source_code = prepare_source(self.source)
        self._input_names = list(self.interface.inputs)
        self._functions = dict(self.functions)
        clash = set(self._functions) & set(self._input_names)
        if clash:
            raise ValueError(f"{self.name}: {sorted(clash)} are both inputs and tasks")

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the code in the sandbox (there is no plain function to call)."""
        return self.execute(*args, **kwargs)


def _code_func(name: str, module: str) -> Callable[..., Any]:
    async def code(**kwargs: Any) -> Any:  # pragma: no cover - never called: the code runs
        raise NotImplementedError

    code.__name__ = code.__qualname__ = name.replace("-", "_").replace(".", "_")
    code.__module__ = module
    return code


def _code_task(
    source: str,
    *,
    inputs: Optional[dict[str, type]],
    output: Any,
    tasks: Optional[list[Any]],
    name: str,
    config: SandboxedConfig,
    cache: Any,
    retries: int,
    image: Any,
    module: str,
    env: Optional[TaskEnvironment] = None,
) -> CodeTaskTemplate:
    if inputs is not None and not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict of name -> type, got {inputs!r}")
    for key in inputs or {}:
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"input names must be Python identifiers, got {key!r}")
    interface = NativeInterface(
        inputs={k: (tp, inspect.Parameter.empty) for k, tp in (inputs or {}).items()},
        outputs={} if output is None or output is type(None) else {"o0": output},
    )
    template = CodeTaskTemplate(
        func=_code_func(name, module),
        name=f"{env.name}.{name}" if env is not None else name,
        short_name=name,
        interface=interface,
        plugin_config=config,
        image=image,
        cache=cache,
        retries=retries,
        source=source,
        functions=functions_by_name(tasks),
        parent_env=weakref.ref(env) if env is not None else None,
        parent_env_name=env.name if env is not None else None,
    )
    if env is not None:
        env._tasks[template.name] = template
    return template


def orchestrator_from_str(
    source: str,
    *,
    inputs: Optional[dict[str, type]] = None,
    output: Any = type(None),
    tasks: Optional[list[Any]] = None,
    name: str = "sandboxed-code",
    timeout_ms: int = 30_000,
    cache: Any = "disable",
    retries: int = 0,
    image: Any = None,
) -> CodeTaskTemplate:
    """Make a sandboxed task from a code string; run it with `flyte.run` like any task.

    The value of the code's last expression is the task's result.

    ```python
    pipeline = flyte.sandbox.orchestrator_from_str(
        "add(x, y) * 2", inputs={"x": int, "y": int}, output=int, tasks=[add]
    )
    flyte.run(pipeline, x=1, y=2).outputs()  # 6
    ```

    Args:
        source: The code.
        inputs: Input names and types (bound as globals).
        output: The result type (`NoneType`: no result).
        tasks: Tasks (or functions) the code may call, by their function names.
        name: The task name.
        timeout_ms: Run-time limit of the code itself.
        cache: Cache policy.
        retries: Retries.
        image: The image (default: the default image; it must have `flyte-runtime[sandbox]`).

    Returns:
        The task.
    """
    return _code_task(
        source,
        inputs=inputs,
        output=output,
        tasks=tasks,
        name=name,
        config=SandboxedConfig(timeout_ms=timeout_ms),
        cache=cache,
        retries=retries,
        image=image if image is not None else "auto",
        module=sys._getframe(1).f_globals.get("__name__", "__main__"),
    )


async def orchestrate_local(
    source: str,
    *,
    inputs: dict[str, Any],
    tasks: Optional[list[Any]] = None,
    timeout_ms: int = 30_000,
) -> Any:
    """Run a code string once in the sandbox and return its result (no task, no run).

    ```python
    await flyte.sandbox.orchestrate_local("add(x, y) * 2", inputs={"x": 1, "y": 2}, tasks=[add])
    ```

    Tasks called from the code run as plain function calls (or as child actions when this is
    awaited inside a running task).

    Args:
        source: The code; its last expression is the result.
        inputs: Input values (bound as globals).
        tasks: Tasks (or functions) the code may call.
        timeout_ms: Run-time limit of the code itself.
    """
    if not isinstance(inputs, dict):
        raise TypeError(f"inputs must be a dict of name -> value, got {inputs!r}")
    return await run_sandboxed(
        prepare_source(source),
        inputs,
        functions_by_name(tasks),
        SandboxedConfig(timeout_ms=timeout_ms),
        label="orchestrate_local",
    )


# ---------------------------------------------------------------------------------------------
# `env.sandbox`
# ---------------------------------------------------------------------------------------------


class SandboxNamespace:
    """`env.sandbox`: make sandboxed orchestrators that belong to an environment."""

    def __init__(self, env: TaskEnvironment) -> None:
        self._env = env

    def orchestrator(
        self,
        _func_or_source: Any = None,
        /,
        *,
        tasks: Optional[list[Any]] = None,
        inputs: Optional[dict[str, type]] = None,
        output: Any = type(None),
        timeout_ms: int = 30_000,
        max_memory: int = 50 * 1024 * 1024,
        max_stack_depth: int = 256,
        type_check: bool = True,
        name: Optional[str] = None,
        cache: Any = None,
        retries: int = 0,
    ) -> Any:
        """A sandboxed orchestrator of this environment.

        Three forms: `@env.sandbox.orchestrator` on a function; `@env.sandbox.orchestrator(
        timeout_ms=...)` with limits; `env.sandbox.orchestrator("code", inputs=..., output=...,
        tasks=[...])` for a code string.

        Args:
            _func_or_source: The function, or a code string.
            tasks: For a code string: the tasks it may call.
            inputs: For a code string: input names and types.
            output: For a code string: the result type.
            timeout_ms: Run-time limit of the sandboxed code.
            max_memory: Memory limit in bytes.
            max_stack_depth: Recursion limit.
            type_check: Check the code statically before running it.
            name: The task's short name (default: the function's name).
            cache: Cache policy (default: the environment's).
            retries: Retries.

        Returns:
            The task, or a decorator making it.
        """
        env = self._env
        config = SandboxedConfig(
            max_memory=max_memory,
            max_stack_depth=max_stack_depth,
            timeout_ms=timeout_ms,
            type_check=type_check,
        )
        if isinstance(_func_or_source, str):
            return _code_task(
                _func_or_source,
                inputs=inputs,
                output=output,
                tasks=tasks,
                name=name or "sandboxed-code",
                config=config,
                cache=cache or env.cache,
                retries=retries,
                image=env.image,
                module=sys._getframe(1).f_globals.get("__name__", "__main__"),
                env=env,
            )

        def decorate(func: Callable[..., Any]) -> SandboxedTaskTemplate:
            if not callable(func):
                raise TypeError(f"@env.sandbox.orchestrator decorates functions, got {func!r}")
            short = name or func.__name__
            template = SandboxedTaskTemplate(
                func=func,
                name=f"{env.name}.{short}",
                short_name=short,
                interface=NativeInterface.from_callable(func),
                plugin_config=config,
                image=env.image,
                cache=cache or env.cache,
                retries=retries,
                env_vars=env.env_vars,
                secrets=env.secrets,
                resources=env.resources,
                parent_env=weakref.ref(env),
                parent_env_name=env.name,
            )
            env._tasks[template.name] = template
            return template

        if _func_or_source is None:
            return decorate
        if callable(_func_or_source):
            return decorate(_func_or_source)
        raise TypeError(
            "env.sandbox.orchestrator takes a function, a code string or keyword arguments, got "
            f"{_func_or_source!r}"
        )


set_sandbox_provider(SandboxNamespace)
