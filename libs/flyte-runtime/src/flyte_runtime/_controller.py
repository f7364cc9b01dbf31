"""The local controller: runs every task call of a run as an in-process action.

Each call of a task from a task becomes a child action, as on a Flyte cluster: the arguments are
converted to a flyteidl2 `Inputs` message and back, the action gets a deterministic name, the cache
is consulted, the function runs with its retries and timeout enforced, and its result travels back
through an `Outputs` message. So a task that works locally passes the same values it would
remotely, and type errors surface locally.

Unlike the reference SDK, nothing is written to disk per child action: child inputs and outputs
stay in memory (only the root action's `inputs.pb` / `outputs.pb`, and reports, are written), so a
fan-out of thousands of children leaves no directories behind and costs far less per child.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import hashlib
import inspect
import logging
import time
from pathlib import Path
from typing import Any

from flyte_models import (
    ActionID,
    NativeInterface,
    TaskContext,
    TaskTemplate,
    VersionParameters,
    cache_from_request,
    current_task_context,
    retry_strategy_from_request,
    timeout_from_request,
    use_task_context,
)
from flyte_models import errors as ferr
from flyte_runtime._cache import LocalCache, cache_key
from flyte_runtime._state import RunState, current_run, in_trace

__all__ = ["LocalController", "child_action_name", "inputs_digest"]

logger = logging.getLogger("flyte_runtime")

# Backoff between local retries when the task's RetryStrategy names none: 0.5 s, 1 s, 2 s, ...
_DEFAULT_BACKOFF_S = 0.5
_DEFAULT_BACKOFF_FACTOR = 2.0
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def inputs_digest(serialized_inputs: bytes) -> str:
    """A stable digest of serialized (deterministic) inputs."""
    return hashlib.sha256(serialized_inputs).hexdigest()


def child_action_name(parent: str, task_name: str, digest: str, group: str, seq: int) -> str:
    """The deterministic name of a child action: the same call in the same place gets the same name.

    Args:
        parent: The calling action's name.
        task_name: The called task's full name.
        digest: The digest of the call's inputs.
        group: The enclosing `flyte.group` name, or "".
        seq: The call's sequence number among identical calls from `parent` (1, 2, ...).

    Returns:
        A 25-character lowercase base-36 name, like the names a Flyte cluster gives.
    """
    h = hashlib.sha256(f"{parent}\0{task_name}\0{digest}\0{group}\0{seq}".encode()).digest()
    n = int.from_bytes(h[:16], "big")
    chars = []
    for _ in range(25):
        n, r = divmod(n, 36)
        chars.append(_ALPHABET[r])
    return "".join(chars)


class _Slot:
    """The `max_action_concurrency` slot of one running action.

    An action gives its slot back while it waits for child actions and takes one again when the
    last of them returns, so a parent blocked on its children never starves them: any tree of
    calls finishes under any limit.
    """

    def __init__(self, sem: asyncio.Semaphore) -> None:
        self._sem = sem
        self._held = False
        self._waiting = 0

    async def acquire(self) -> None:
        await self._sem.acquire()
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._sem.release()

    def child_started(self) -> None:
        self._waiting += 1
        self.release()

    async def child_finished(self) -> None:
        self._waiting -= 1
        if self._waiting == 0 and not self._held:
            await self.acquire()
            if self._waiting:  # another child started while we waited for the slot
                self.release()


_SLOT: contextvars.ContextVar[_Slot | None] = contextvars.ContextVar("flyte_slot", default=None)


def _user_error(exc: BaseException) -> ferr.BaseRuntimeError:
    """Wrap a non-Flyte exception raised by user code the way a cluster reports it."""
    if isinstance(exc, ferr.BaseRuntimeError):
        return exc
    return ferr.RuntimeUserError(type(exc).__name__, str(exc))


def _with_checkpoint(ctx: TaskContext, attempt: int) -> TaskContext:
    """`ctx` for one attempt: its own checkpoint, and the previous attempt's to resume from.

    The layout follows the control plane: `<action dir>/<attempt>/_flytecheckpoints`, so attempt
    `n` reads `<action dir>/<n-1>/_flytecheckpoints` (missing when attempt `n-1` saved nothing).
    """
    from flyte_models import CheckpointPaths
    from flyte_runtime._checkpoint import checkpoint_data

    def at(n: int) -> str:
        return f"{ctx.output_path.rstrip('/')}/{n}/_flytecheckpoints"

    paths = CheckpointPaths(
        prev_checkpoint_path=at(attempt - 1) if attempt > 1 else None,
        checkpoint_path=at(attempt),
    )
    data = {k: v for k, v in (ctx.data or {}).items() if k != TaskContext.CHECKPOINT_DATA_KEY}
    data.update(checkpoint_data(paths))
    return dataclasses.replace(ctx, checkpoint_paths=paths, data=data)


class LocalController:
    """Executes the actions of one local run.

    Args:
        cache: The local cache (None disables caching for the run).
    """

    def __init__(self, cache: LocalCache | None) -> None:
        self._cache = cache
        self._iface_digests: dict[int, str] = {}
        self._semaphore: asyncio.Semaphore | None = None
        self.actions_started = 0

    def limit_concurrency(self, n: int | None) -> None:
        """Bound how many actions run at once (`max_action_concurrency`)."""
        self._semaphore = asyncio.Semaphore(n) if n and n > 0 else None

    # -- calls from user code ----------------------------------------------------------------------

    async def register_condition(self, condition: Any) -> None:
        """A local run has no one to notify: a condition is only asked for when waited on."""
        logger.debug("condition %r created", condition.name)

    async def wait_for_condition(self, condition: Any) -> Any:
        """Ask for the condition's value on the console (stdin); return it as its `data_type`.

        Raises:
            ConditionTimedoutError: If no answer comes within the condition's timeout.
            ConditionFailedError: If the answer cannot be read as `data_type`, or stdin is closed.
        """
        from flyte_runtime._condition import parse_payload

        kind = condition.data_type.__name__
        question = f"[condition {condition.name!r}] {condition.prompt} ({kind}): "
        loop = asyncio.get_running_loop()
        answer = loop.run_in_executor(None, _read_answer, question)
        try:
            raw = await asyncio.wait_for(answer, timeout=condition.timeout_seconds)
        except asyncio.TimeoutError:
            raise ferr.ConditionTimedoutError(
                f"Condition {condition.name!r} was not signalled within "
                f"{condition.timeout_seconds} seconds."
            ) from None
        if raw is None:
            raise ferr.ConditionFailedError(
                f"Condition {condition.name!r}: no answer (stdin is closed); a local run asks "
                "for condition values on the console"
            )
        try:
            return parse_payload(raw, condition.data_type)
        except ValueError as e:
            raise ferr.ConditionFailedError(f"Condition {condition.name!r}: {e}") from None

    async def submit(
        self, task: TaskTemplate[Any, Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """Run `task(*args, **kwargs)` as a child action of the current task; return its result."""
        from flyte_types import build_inputs

        trace_name = in_trace()
        if trace_name is not None:
            raise ferr.TraceDoesNotAllowNestedTasksError(
                f"Task {task.name!r} was called inside the trace {trace_name!r}; traces may not "
                "call tasks. Call the task from the task body instead."
            )
        parent = current_task_context()
        run = current_run()
        if parent is None or run is None:
            raise ferr.RuntimeSystemError("BadContext", "a task call was submitted outside a run")
        interface = task.native_interface
        bound = interface.convert_to_kwargs(*args, **kwargs)
        try:
            inputs = await build_inputs(
                interface,
                bound,
                context=parent.custom_context or None,
                max_bytes=task.max_inline_io_bytes,
            )
        except ferr.BaseRuntimeError:
            raise
        except Exception as exc:
            raise ferr.RuntimeUserError(type(exc).__name__, f"{task.name}: {exc}") from exc
        serialized = inputs.SerializeToString(deterministic=True)
        digest = inputs_digest(serialized)
        group = parent.group_data.name if parent.group_data else ""
        seq = parent._call_counter.next(f"{task.name}\0{digest}\0{group}")
        name = child_action_name(parent.action.name, task.name, digest, group, seq)
        slot = _SLOT.get()
        if slot is None:
            return await self.run_action(task, name, inputs, digest, parent, run)
        slot.child_started()
        try:
            return await self.run_action(task, name, inputs, digest, parent, run)
        finally:
            await slot.child_finished()

    # -- one action ---------------------------------------------------------------------------------

    async def run_action(
        self,
        task: TaskTemplate[Any, Any, Any],
        action_name: str,
        inputs: Any,
        digest: str,
        parent: TaskContext | None,
        run: RunState,
        *,
        write_io: bool = False,
    ) -> Any:
        """Execute one action (cache, retries, timeout) and return its Python result.

        Args:
            task: The task to run.
            action_name: The action's name (`a0` for the root).
            inputs: The action's flyteidl2 `Inputs`.
            digest: The digest of the serialized inputs.
            parent: The calling task's context (None for the root action).
            run: The run.
            write_io: Write `inputs.pb` / `outputs.pb` into the action's directory (root only).
        """
        from flyte_types import (
            build_outputs,
            read_inputs,
            read_outputs,
            write_inputs,
            write_outputs,
        )

        interface = task.native_interface
        self.actions_started += 1
        output_dir = run.metadata_dir / action_name
        if write_io:
            output_dir.mkdir(parents=True, exist_ok=True)
            await write_inputs(inputs, str(output_dir / "inputs.pb"))

        key, cache = self._cache_plan(task, interface, inputs, digest, parent, run)
        if key is not None and cache.behavior == "auto" and not self._lookup_disabled(parent, run):
            assert self._cache is not None
            hit_bytes = self._cache.get(key)
            if hit_bytes is not None:
                from flyteidl2.task import common_pb2

                hit = common_pb2.Outputs.FromString(hit_bytes)
                logger.info("Cache hit for task %r (version %s)", task.name, key[:12])
                if write_io:
                    await write_outputs(hit, str(output_dir / "outputs.pb"))
                return await read_outputs(hit, interface, max_bytes=task.max_inline_io_bytes)

        native = await read_inputs(inputs, interface, max_bytes=task.max_inline_io_bytes)
        ctx = self._child_context(task, action_name, parent, run, output_dir)
        value = await self._execute_with_retries(task, native, ctx)
        try:
            outputs = await build_outputs(interface, value, max_bytes=task.max_inline_io_bytes)
        except ferr.BaseRuntimeError:
            raise
        except Exception as exc:
            raise ferr.RuntimeUserError(type(exc).__name__, f"{task.name}: {exc}") from exc
        if (
            key is not None
            and self._cache is not None
            and not self._run_cache_disabled(parent, run)
        ):
            self._cache.put(key, task.name, outputs.SerializeToString(deterministic=True))
        if write_io:
            await write_outputs(outputs, str(output_dir / "outputs.pb"))
        await self._write_report(ctx, output_dir)
        return await read_outputs(outputs, interface, max_bytes=task.max_inline_io_bytes)

    def _lookup_disabled(self, parent: TaskContext | None, run: RunState) -> bool:
        return run.options.overwrite_cache or self._run_cache_disabled(parent, run)

    @staticmethod
    def _run_cache_disabled(parent: TaskContext | None, run: RunState) -> bool:
        # `disable_run_cache` keeps the run away from the cache entirely: no reads, no writes.
        return run.options.disable_run_cache or bool(
            parent is not None and parent.disable_run_cache
        )

    def _cache_plan(
        self,
        task: TaskTemplate[Any, Any, Any],
        interface: NativeInterface,
        inputs: Any,
        digest: str,
        parent: TaskContext | None,
        run: RunState,
    ) -> tuple[str | None, Any]:
        cache = cache_from_request(task.cache)
        if self._cache is None or not cache.is_enabled():
            return None, cache
        func = getattr(task, "func", None)
        version = cache.get_version(
            VersionParameters(func=func, image=getattr(task, "image", None))
        )
        ignored = set(cache.get_ignored_inputs())
        if ignored:
            from flyteidl2.task import common_pb2

            kept = common_pb2.Inputs()
            for nl in inputs.literals:
                if nl.name not in ignored:
                    kept.literals.add().CopyFrom(nl)
            digest = inputs_digest(kept.SerializeToString(deterministic=True))
        return cache_key(task.name, digest, self._interface_digest(task, interface), version), cache

    def _interface_digest(
        self, task: TaskTemplate[Any, Any, Any], interface: NativeInterface
    ) -> str:
        cached = self._iface_digests.get(id(interface))
        if cached is None:
            from flyte_types import translate_interface

            typed = translate_interface(interface)
            cached = hashlib.sha256(typed.SerializeToString(deterministic=True)).hexdigest()
            self._iface_digests[id(interface)] = cached
        return cached

    def _child_context(
        self,
        task: TaskTemplate[Any, Any, Any],
        action_name: str,
        parent: TaskContext | None,
        run: RunState,
        output_dir: Path,
    ) -> TaskContext:
        from flyte_models import RawDataPath
        from flyte_runtime._report import Report

        action = ActionID(
            name=action_name,
            run_name=run.run_name,
            project=run.options.project,
            domain=run.options.domain,
            org=None,
        )
        if parent is None:
            return TaskContext(
                action=action,
                version="local",
                raw_data_path=RawDataPath(path=str(run.raw_data_dir)),
                output_path=str(output_dir),
                run_base_dir=str(run.metadata_dir),
                report=Report(action_name) if task.report else None,
                mode="local",
                custom_context=dict(run.options.custom_context),
                disable_run_cache=run.options.disable_run_cache,
            )
        # dataclasses.replace, not TaskContext.replace: the latter merges `data`, and a child
        # action starts with none of its parent's per-attempt data (plugins' `pre()` state).
        return dataclasses.replace(
            parent,
            action=action,
            task_action=action,
            output_path=str(output_dir),
            report=Report(action_name) if task.report else None,
            group_data=None,
            data={},
            _call_counter=type(parent._call_counter)(),
        )

    async def _execute_with_retries(
        self, task: TaskTemplate[Any, Any, Any], native: dict[str, Any], ctx: TaskContext
    ) -> Any:
        strategy = retry_strategy_from_request(task.retries)
        timeout = timeout_from_request(task.timeout).get_max_runtime()
        attempts = strategy.count + 1
        base = ctx
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                # A retry makes the same calls again: they get the same child action names.
                base = base.replace(_call_counter=type(base._call_counter)())
            ctx = _with_checkpoint(base, attempt)
            try:
                return await self._execute_once(task, native, ctx, timeout)
            except ferr.NonRecoverableError:
                raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                err = _user_error(exc)
                if attempt >= attempts:
                    if err is exc:
                        raise
                    raise err from exc
                delay = self._backoff(strategy, attempt)
                logger.warning(
                    "Task %r attempt %d/%d failed (%s: %s); retrying in %.2fs",
                    task.name,
                    attempt,
                    attempts,
                    err.code,
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _backoff(strategy: Any, attempt: int) -> float:
        backoff = getattr(strategy, "backoff", None)
        if backoff is not None:
            # `compute_delay` counts retries from 0: the first retry waits `base`.
            return float(backoff.compute_delay(attempt - 1).total_seconds())
        return float(_DEFAULT_BACKOFF_S * _DEFAULT_BACKOFF_FACTOR ** (attempt - 1))

    async def _execute_once(
        self,
        task: TaskTemplate[Any, Any, Any],
        native: dict[str, Any],
        ctx: TaskContext,
        timeout: Any,
    ) -> Any:
        slot = _Slot(self._semaphore) if self._semaphore is not None else None
        if slot is not None:
            await slot.acquire()
        token = _SLOT.set(slot)
        try:
            with use_task_context(ctx):
                coro = task.execute(**native)
                if not inspect.isawaitable(coro):
                    return coro
                if not timeout:
                    return await coro
                started = time.monotonic()
                try:
                    return await asyncio.wait_for(coro, timeout.total_seconds())
                except asyncio.TimeoutError:
                    raise ferr.MaxRuntimeExceededError(
                        f"Task {task.name!r} exceeded its max runtime of {timeout} "
                        f"(ran {time.monotonic() - started:.1f}s) and was stopped."
                    ) from None
        finally:
            _SLOT.reset(token)
            if slot is not None:
                slot.release()

    async def _write_report(self, ctx: TaskContext, output_dir: Path) -> None:
        report = ctx.report
        if report is None or not report.has_content():
            return
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "report.html").write_text(report.get_final_report(), encoding="utf-8")


def _read_answer(question: str) -> str | None:
    try:
        return input(question)
    except EOFError:
        return None
