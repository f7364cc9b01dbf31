"""The exceptions of the Flyte SDK (re-exported unchanged as `flyte.errors`).

Every SDK exception derives from `FlyteError`. Failures of task execution carry the wire contract
of the control plane: a `code` (usually the original exception class name), a `kind`
(`"user"`, `"system"` or `"unknown"`) and the root-cause message.

```
FlyteError
  BaseRuntimeError(code, kind, root_cause_message, worker)   also a RuntimeError
    InitializationError
    LogsNotYetAvailableError                                    kind "system"
    RuntimeSystemError                                          kind "system"
      UnionRpcError
    RuntimeUnknownError                                         kind "unknown"
    RuntimeUserError                                            kind "user"
      OOMError, TaskInterruptedError, PrimaryContainerNotFoundError, RetriesExhaustedError,
      InvalidImageNameError, ImagePullBackOffError, NotInTaskContextError
      TaskTimeoutError
        MaxRuntimeExceededError, MaxQueuedTimeExceededError, DeadlineExceededError
      SlowDownError
        ResourceExhaustedError
      ConditionTimedoutError, ConditionAlreadyExistsError, ConditionFailedError,
      ConditionNotFoundError, RemoteTaskNotFoundError, RemoteTaskUsageError, DeploymentError,
      ImageBuildError, ModuleLoadError, InlineIOMaxBytesBreached, ActionAbortedError,
      OnlyAsyncIOSupportedError, ParameterMaterializationError, RestrictedTypeError,
      CodeBundleError, TraceDoesNotAllowNestedTasksError, SyncTaskCallInAsyncContextError,
      CustomError, RuntimeDataValidationError, InvalidPackageError,
      NonRecoverableError                                       is_retryable = False
      AppleSiliconError -> AppleSilicon*Error
    GPUFaultError -> GPUFaultUserError (also RuntimeUserError),
                     GPUFaultSystemError (also RuntimeSystemError)
  ActionNotFoundError                                           also a RuntimeError
```

Other libraries hang their own subtrees under `FlyteError`. Do not subclass these in user code;
raise `CustomError` (or any exception: the runtime wraps it as a `RuntimeUserError`) instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NoReturn

if TYPE_CHECKING:
    import asyncio

__all__ = [
    "APPLE_SILICON_ERRORS_BY_CODE",
    "ActionAbortedError",
    "ActionNotFoundError",
    "AppleSiliconBridgeUnreachableError",
    "AppleSiliconDaemonOOMError",
    "AppleSiliconDaemonStartFailedError",
    "AppleSiliconError",
    "AppleSiliconHostExecFailedError",
    "AppleSiliconModelNotFoundError",
    "AppleSiliconNotAvailableError",
    "BaseRuntimeError",
    "CodeBundleError",
    "ConditionAlreadyExistsError",
    "ConditionFailedError",
    "ConditionNotFoundError",
    "ConditionTimedoutError",
    "CustomError",
    "DeadlineExceededError",
    "DeploymentError",
    "ErrorKind",
    "FlyteError",
    "GPUFaultError",
    "GPUFaultSystemError",
    "GPUFaultUserError",
    "GPU_FAULT_CODES",
    "ImageBuildError",
    "ImagePullBackOffError",
    "InitializationError",
    "InlineIOMaxBytesBreached",
    "InvalidImageNameError",
    "InvalidPackageError",
    "LogsNotYetAvailableError",
    "MaxQueuedTimeExceededError",
    "MaxRuntimeExceededError",
    "ModuleLoadError",
    "NonRecoverableError",
    "NotInTaskContextError",
    "OOMError",
    "OnlyAsyncIOSupportedError",
    "ParameterMaterializationError",
    "PrimaryContainerNotFoundError",
    "RemoteTaskNotFoundError",
    "RemoteTaskUsageError",
    "ResourceExhaustedError",
    "RestrictedTypeError",
    "RetriesExhaustedError",
    "RuntimeDataValidationError",
    "RuntimeSystemError",
    "RuntimeUnknownError",
    "RuntimeUserError",
    "SlowDownError",
    "SyncTaskCallInAsyncContextError",
    "TaskInterruptedError",
    "TaskTimeoutError",
    "TraceDoesNotAllowNestedTasksError",
    "UnionRpcError",
    "silence_polling_error",
]

ErrorKind = Literal["system", "unknown", "user"]
"""Who is to blame for a failure: the user's code, the system, or nobody knows."""

_KINDS = ("system", "unknown", "user")


class FlyteError(Exception):
    """The root of every exception raised by the Flyte SDK libraries.

    Do not subclass it in user code. `is_retryable` says whether retrying the failed operation can
    help; `cause` is the exception this one was raised from, if any.
    """

    is_retryable: bool = True

    @property
    def cause(self) -> BaseException | None:
        """The exception this one was raised from (`raise ... from e`) or during, if any."""
        return self.__cause__ or self.__context__


class BaseRuntimeError(FlyteError, RuntimeError):
    """A failed task execution, with the code, kind and message the control plane records.

    Arithmetic on an instance re-raises it: when `flyte.map(..., return_exceptions=True)` yields
    failures as values, `sum(results)` surfaces the real failure instead of a `TypeError`.

    Args:
        code: Short error code, usually the original exception class name.
        kind: `"user"`, `"system"` or `"unknown"`.
        root_cause_message: The message (also `str(error)`).
        worker: The worker (pod) that failed, if known.
    """

    def __init__(
        self, code: str, kind: ErrorKind, root_cause_message: str, worker: str | None = None
    ) -> None:
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}")
        super().__init__(root_cause_message)
        self.code = code
        self.kind: ErrorKind = kind
        self.worker = worker

    @property
    def message(self) -> str:
        """The root-cause message."""
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses have different constructor shapes; rebuild without calling __init__ so that
        # every error survives pickling (e.g. between a worker process and its parent).
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))

    def _reraise(self, *_args: Any) -> NoReturn:
        raise self

    __add__ = _reraise
    __radd__ = _reraise
    __sub__ = _reraise
    __rsub__ = _reraise
    __mul__ = _reraise
    __rmul__ = _reraise
    __truediv__ = _reraise
    __rtruediv__ = _reraise
    __floordiv__ = _reraise
    __rfloordiv__ = _reraise


def _rebuild_error(
    cls: type[BaseRuntimeError], args: tuple[Any, ...], state: dict[str, Any]
) -> BaseRuntimeError:
    error = cls.__new__(cls)
    BaseException.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InitializationError(BaseRuntimeError):
    """The SDK was used in a way that needs `flyte.init` (or a configured client) first."""


class RuntimeSystemError(BaseRuntimeError):
    """A failure caused by the platform rather than the user's code.

    Args:
        code: Short error code.
        message: The message.
        worker: The worker that failed, if known.
    """

    def __init__(self, code: str, message: str, worker: str | None = None) -> None:
        super().__init__(code, "system", message, worker)


class UnionRpcError(RuntimeSystemError):
    """Talking to the control plane failed."""


class RuntimeUserError(BaseRuntimeError):
    """A failure caused by the user's code or inputs.

    Args:
        code: Short error code, usually the original exception class name.
        message: The message.
        worker: The worker that failed, if known.
    """

    def __init__(self, code: str, message: str, worker: str | None = None) -> None:
        super().__init__(code, "user", message, worker)


class RuntimeUnknownError(BaseRuntimeError):
    """A failure whose cause could not be attributed.

    Args:
        code: Short error code.
        message: The message.
        worker: The worker that failed, if known.
    """

    def __init__(self, code: str, message: str, worker: str | None = None) -> None:
        super().__init__(code, "unknown", message, worker)


class OOMError(RuntimeUserError):
    """The task ran out of memory."""


class TaskInterruptedError(RuntimeUserError):
    """The task was interrupted (e.g. its spot instance was reclaimed)."""


class PrimaryContainerNotFoundError(RuntimeUserError):
    """The pod has no container with the primary container name."""


class RetriesExhaustedError(RuntimeUserError):
    """The task failed on every allowed attempt."""


class InvalidImageNameError(RuntimeUserError):
    """The task's image name is not a valid image reference."""


class ImagePullBackOffError(RuntimeUserError):
    """The task's image could not be pulled."""


class NotInTaskContextError(RuntimeUserError):
    """Something that only works inside a running task was used outside one."""


class TaskTimeoutError(RuntimeUserError):
    """The task exceeded one of its `Timeout` bounds (the subclasses say which).

    Args:
        message: The message.
        code: The error code.
    """

    def __init__(self, message: str, code: str = "TaskTimeoutError") -> None:
        super().__init__(code, message)


class MaxRuntimeExceededError(TaskTimeoutError):
    """The task ran longer than `Timeout.max_runtime`.

    Args:
        message: The message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, code="MaxRuntimeExceededError")


class MaxQueuedTimeExceededError(TaskTimeoutError):
    """The task waited in the queue longer than `Timeout.max_queued_time`.

    Args:
        message: The message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, code="MaxQueuedTimeExceededError")


class DeadlineExceededError(TaskTimeoutError):
    """The task did not finish within `Timeout.deadline`, across all attempts.

    Args:
        message: The message.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, code="DeadlineExceededError")


class _MessageOnlyUserError(RuntimeUserError):
    """A user error whose code is fixed by its class (`CODE`)."""

    CODE: str = ""

    def __init__(self, message: str) -> None:
        super().__init__(self.CODE or type(self).__name__, message)


class ConditionTimedoutError(_MessageOnlyUserError):
    """A condition was not signalled within its timeout.

    Args:
        message: The message.
    """

    CODE = "ConditionTimedoutError"


class ConditionAlreadyExistsError(_MessageOnlyUserError):
    """A condition with this name already exists in the action.

    Args:
        message: The message.
    """

    CODE = "ConditionAlreadyExistsError"


class ConditionFailedError(_MessageOnlyUserError):
    """A condition failed (e.g. it was marked failed by the system).

    Args:
        message: The message.
    """

    CODE = "ConditionFailedError"


class ConditionNotFoundError(_MessageOnlyUserError):
    """No condition with this name exists.

    Args:
        message: The message.
    """

    CODE = "ConditionNotFoundError"


class RemoteTaskNotFoundError(_MessageOnlyUserError):
    """The referenced remote task does not exist.

    Args:
        message: The message.
    """

    CODE = "RemoteTaskNotFoundError"


class RemoteTaskUsageError(_MessageOnlyUserError):
    """A remote task reference was used where it cannot be (e.g. in a local run).

    Args:
        message: The message.
    """

    CODE = "RemoteTaskUsageError"


class DeploymentError(_MessageOnlyUserError):
    """Deploying failed, or a precondition for deploying is not met.

    Args:
        message: The message.
    """

    CODE = "DeploymentError"


class ImageBuildError(_MessageOnlyUserError):
    """Building (or resolving) an image failed.

    Args:
        message: The message.
    """

    CODE = "ImageBuildError"


class ModuleLoadError(_MessageOnlyUserError):
    """A module could not be loaded (missing, or a syntax error).

    Args:
        message: The message.
    """

    CODE = "ModuleLoadError"


class InlineIOMaxBytesBreached(_MessageOnlyUserError):
    """Inline inputs or outputs exceed the task's `max_inline_io_bytes`.

    Args:
        message: The message.
    """

    CODE = "InlineIOMaxBytesBreached"


class ActionAbortedError(_MessageOnlyUserError):
    """The action was aborted from outside.

    Args:
        message: The message.
    """

    CODE = "ActionAbortedError"


class SlowDownError(_MessageOnlyUserError):
    """The control plane asked the client to slow down.

    Args:
        message: The message.
    """

    CODE = "SlowDownError"


class ResourceExhaustedError(SlowDownError):
    """A quota or rate limit was exhausted.

    Args:
        message: The message.
    """


class OnlyAsyncIOSupportedError(_MessageOnlyUserError):
    """A synchronous API was used where only the async one works.

    Args:
        message: The message.
    """

    CODE = "OnlyAsyncIOSupportedError"


class ParameterMaterializationError(_MessageOnlyUserError):
    """An app parameter with delayed materialisation could not be materialised.

    Args:
        message: The message.
    """

    CODE = "ParameterMaterializationError"


class RestrictedTypeError(_MessageOnlyUserError):
    """A type that is not allowed in this position was used.

    Args:
        message: The message.
    """

    CODE = "RestrictedTypeUsage"


class CodeBundleError(_MessageOnlyUserError):
    """The code bundle could not be created (e.g. no files to bundle).

    Args:
        message: The message.
    """

    CODE = "CodeBundleError"


class TraceDoesNotAllowNestedTasksError(_MessageOnlyUserError):
    """A task was called from inside a `flyte.trace` function.

    Args:
        message: The message.
    """

    CODE = "TraceDoesNotAllowNestedTasksError"


class SyncTaskCallInAsyncContextError(_MessageOnlyUserError):
    """A sync task was called blockingly from async code; use `await task.aio(...)`.

    Args:
        message: The message.
    """

    CODE = "SyncTaskCallInAsyncContextError"


class CustomError(RuntimeUserError):
    """A user error with a user-chosen code.

    Args:
        code: The error code.
        message: The message.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)

    @classmethod
    def from_exception(cls, e: Exception) -> CustomError:
        """Wrap an exception: its class name becomes the code and its text the message.

        Args:
            e: The exception to wrap; it becomes `__cause__`.

        Returns:
            The custom error.
        """
        error = cls(type(e).__name__, str(e))
        error.__cause__ = e
        return error


class RuntimeDataValidationError(RuntimeUserError):
    """An input or output value could not be converted to or from its wire form.

    Args:
        var: The input or output name.
        e: The underlying error or its description.
        task_name: The task, if known.
    """

    def __init__(self, var: str, e: Exception | str, task_name: str = "") -> None:
        super().__init__(
            "DataValidationError",
            f"In task {task_name} variable {var}, failed to serialize/deserialize because of {e}",
        )
        self.var = var
        self.task_name = task_name


class InvalidPackageError(RuntimeUserError):
    """An image build asked for a system package that does not exist.

    Args:
        package_name: The package.
        original_error: The package manager's error text.
    """

    def __init__(self, package_name: str, original_error: str) -> None:
        self.package_name = package_name
        self.original_error = original_error
        super().__init__(
            "InvalidPackageError",
            f"Invalid system package detected: '{package_name}'. This package does not exist in "
            f"apt repositories. Error: {original_error}",
        )


class NonRecoverableError(RuntimeUserError):
    """Raise it from a task to fail at once: retries are skipped even if some remain.

    Args:
        message: The message.
        code: The error code.
    """

    is_retryable = False

    def __init__(self, message: str, code: str = "NonRecoverableError") -> None:
        super().__init__(code, message)


class LogsNotYetAvailableError(BaseRuntimeError):
    """The logs of an action are not available yet.

    Args:
        message: The message.
    """

    def __init__(self, message: str) -> None:
        super().__init__("LogsNotYetAvailable", "system", message, None)


class ActionNotFoundError(FlyteError, RuntimeError):
    """The requested action does not exist (a `RuntimeError`, as in the reference SDK)."""


GPU_FAULT_CODES: tuple[str, ...] = (
    "GpuXidError",
    "GpuFallenOffBus",
    "GpuEccUncorrectable",
    "GpuRowRemapPending",
    "GpuNvlinkError",
    "GpuGspError",
)
"""Error codes the backend uses for failures it attributes to a GPU or NVSwitch fault."""


class GPUFaultError(BaseRuntimeError):
    """A task failure the backend attributed to a GPU or NVSwitch fault on the node.

    Catch this class for every GPU fault; `GPUFaultUserError` is a fault the workload caused and
    `GPUFaultSystemError` a hardware fault. Any of the fault attributes may be `None`.

    Args:
        code: One of `GPU_FAULT_CODES`.
        kind: `"user"` or `"system"`.
        message: The message.
        worker: The worker that failed, if known.
        fault_kind: `"xid"` or `"sxid"`.
        fault_code: The Xid or SXid number.
        fault_name: The fault's name.
        severity: The fault's severity.
        gpu_uuid: The GPU's UUID.
        gpu_index: The GPU's index on the node.
        node: The node name.
        pci_bus_id: The GPU's PCI bus id.
        process: The faulting process.
    """

    def __init__(
        self,
        code: str,
        kind: ErrorKind,
        message: str,
        worker: str | None = None,
        *,
        fault_kind: str | None = None,
        fault_code: int | None = None,
        fault_name: str | None = None,
        severity: str | None = None,
        gpu_uuid: str | None = None,
        gpu_index: int | None = None,
        node: str | None = None,
        pci_bus_id: str | None = None,
        process: str | None = None,
    ) -> None:
        BaseRuntimeError.__init__(self, code, kind, message, worker)
        self.fault_kind = fault_kind
        self.fault_code = fault_code
        self.fault_name = fault_name
        self.severity = severity
        self.gpu_uuid = gpu_uuid
        self.gpu_index = gpu_index
        self.node = node
        self.pci_bus_id = pci_bus_id
        self.process = process

    @property
    def xid(self) -> int | None:
        """The NVIDIA Xid number, or `None` for an SXid fault or an unknown number."""
        return self.fault_code if self.fault_kind == "xid" else None

    @property
    def sxid(self) -> int | None:
        """The NVSwitch SXid number, or `None` for an Xid fault or an unknown number."""
        return self.fault_code if self.fault_kind == "sxid" else None


class GPUFaultUserError(GPUFaultError, RuntimeUserError):
    """A GPU fault caused by the workload itself (charged to the task's retries).

    Args:
        code: The error code.
        message: The message.
        worker: The worker that failed, if known.
        **fault: The keyword-only fault attributes of `GPUFaultError`.
    """

    def __init__(self, code: str, message: str, worker: str | None = None, **fault: Any) -> None:
        GPUFaultError.__init__(self, code, "user", message, worker, **fault)


class GPUFaultSystemError(GPUFaultError, RuntimeSystemError):
    """A GPU hardware fault (retried by the platform before it reaches user code).

    Args:
        code: The error code.
        message: The message.
        worker: The worker that failed, if known.
        **fault: The keyword-only fault attributes of `GPUFaultError`.
    """

    def __init__(self, code: str, message: str, worker: str | None = None, **fault: Any) -> None:
        GPUFaultError.__init__(self, code, "system", message, worker, **fault)


class AppleSiliconError(RuntimeUserError):
    """A failure of the devbox-local Apple Silicon accelerator (`gpu="AppleSilicon"`).

    Args:
        message: The message.
        worker: The worker that failed, if known.
    """

    code_name: str = "APPLE_SILICON_ERROR"
    recoverable: bool = True

    def __init__(self, message: str, worker: str | None = None) -> None:
        super().__init__(self.code_name, message, worker)


class AppleSiliconNotAvailableError(AppleSiliconError):
    """Apple Silicon was requested where it is not available (not a devbox on a Mac)."""

    code_name = "APPLE_SILICON_NOT_AVAILABLE"
    recoverable = False


class AppleSiliconHostExecFailedError(AppleSiliconError):
    """An Apple Silicon workload could not be started on the Mac."""

    code_name = "APPLE_SILICON_HOST_EXEC_FAILED"
    recoverable = False


class AppleSiliconDaemonStartFailedError(AppleSiliconError):
    """The host-side MLX daemon of an Apple Silicon workload failed to start."""

    code_name = "APPLE_SILICON_DAEMON_START_FAILED"
    recoverable = False


class AppleSiliconDaemonOOMError(AppleSiliconError):
    """The host process of an Apple Silicon workload ran out of memory."""

    code_name = "APPLE_SILICON_DAEMON_OOM"


class AppleSiliconModelNotFoundError(AppleSiliconError):
    """The model an Apple Silicon workload asked for cannot be found or loaded."""

    code_name = "APPLE_SILICON_MODEL_NOT_FOUND"
    recoverable = False


class AppleSiliconBridgeUnreachableError(AppleSiliconError):
    """A container cannot reach the devbox's Apple Silicon bridge."""

    code_name = "APPLE_SILICON_BRIDGE_UNREACHABLE"


APPLE_SILICON_ERRORS_BY_CODE: dict[str, type[AppleSiliconError]] = {
    cls.code_name: cls
    for cls in (
        AppleSiliconNotAvailableError,
        AppleSiliconHostExecFailedError,
        AppleSiliconDaemonStartFailedError,
        AppleSiliconDaemonOOMError,
        AppleSiliconModelNotFoundError,
        AppleSiliconBridgeUnreachableError,
    )
}
"""The Apple Silicon error codes, each mapped to the error class raised for it."""


def silence_polling_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An event-loop exception handler that drops `BlockingIOError` noise from polling.

    Args:
        loop: The event loop.
        context: The exception context passed by asyncio.
    """
    if isinstance(context.get("exception"), BlockingIOError):
        return
    loop.default_exception_handler(context)
