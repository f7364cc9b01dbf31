"""The error taxonomy of flyte_models.errors (re-exported as flyte.errors)."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest

from flyte_models import errors
from flyte_models.errors import (
    APPLE_SILICON_ERRORS_BY_CODE,
    GPU_FAULT_CODES,
    ActionAbortedError,
    ActionNotFoundError,
    AppleSiliconBridgeUnreachableError,
    AppleSiliconDaemonOOMError,
    AppleSiliconDaemonStartFailedError,
    AppleSiliconError,
    AppleSiliconHostExecFailedError,
    AppleSiliconModelNotFoundError,
    AppleSiliconNotAvailableError,
    BaseRuntimeError,
    CodeBundleError,
    ConditionAlreadyExistsError,
    ConditionFailedError,
    ConditionNotFoundError,
    ConditionTimedoutError,
    CustomError,
    DeadlineExceededError,
    DeploymentError,
    ErrorKind,
    FlyteError,
    GPUFaultError,
    GPUFaultSystemError,
    GPUFaultUserError,
    ImageBuildError,
    ImagePullBackOffError,
    InitializationError,
    InlineIOMaxBytesBreached,
    InvalidImageNameError,
    InvalidPackageError,
    LogsNotYetAvailableError,
    MaxQueuedTimeExceededError,
    MaxRuntimeExceededError,
    ModuleLoadError,
    NonRecoverableError,
    NotInTaskContextError,
    OnlyAsyncIOSupportedError,
    OOMError,
    ParameterMaterializationError,
    PrimaryContainerNotFoundError,
    RemoteTaskNotFoundError,
    RemoteTaskUsageError,
    ResourceExhaustedError,
    RestrictedTypeError,
    RetriesExhaustedError,
    RuntimeDataValidationError,
    RuntimeSystemError,
    RuntimeUnknownError,
    RuntimeUserError,
    SlowDownError,
    SyncTaskCallInAsyncContextError,
    TaskInterruptedError,
    TaskTimeoutError,
    TraceDoesNotAllowNestedTasksError,
    UnionRpcError,
    silence_polling_error,
)


def test_base_runtime_error_carries_code_kind_message_worker() -> None:
    e = BaseRuntimeError("Boom", "user", "it broke", worker="pod-1")
    assert isinstance(e, RuntimeError) and isinstance(e, FlyteError)
    assert (e.code, e.kind, str(e), e.message, e.worker) == (
        "Boom",
        "user",
        "it broke",
        "it broke",
        "pod-1",
    )
    with pytest.raises(ValueError, match="kind must be one of .* got 'bad'"):
        BaseRuntimeError("c", "bad", "m")  # type: ignore[arg-type]
    kinds: tuple[ErrorKind, ...] = ("system", "unknown", "user")
    assert all(BaseRuntimeError("c", k, "m").kind == k for k in kinds)


@pytest.mark.parametrize(
    "op",
    [
        lambda e: e + 1,
        lambda e: 1 + e,
        lambda e: e - 1,
        lambda e: 1 - e,
        lambda e: e * 2,
        lambda e: 2 * e,
        lambda e: e / 2,
        lambda e: 2 / e,
        lambda e: e // 2,
        lambda e: 2 // e,
    ],
)
def test_arithmetic_reraises_the_error(op: Any) -> None:
    e = RuntimeUserError("ValueError", "bad input")
    with pytest.raises(RuntimeUserError) as info:
        op(e)
    assert info.value is e


def test_sum_over_map_results_surfaces_the_failure() -> None:
    results: list[Any] = [1, RuntimeUserError("KeyError", "k"), 3]
    with pytest.raises(RuntimeUserError, match="k"):
        sum(results)


@pytest.mark.parametrize(
    ("cls", "kind"),
    [(RuntimeUserError, "user"), (RuntimeSystemError, "system"), (RuntimeUnknownError, "unknown")],
)
def test_kind_subclasses(cls: Any, kind: str) -> None:
    e = cls("Code", "msg", "w")
    assert (e.code, e.kind, str(e), e.worker) == ("Code", kind, "msg", "w")


@pytest.mark.parametrize(
    "cls",
    [
        OOMError,
        TaskInterruptedError,
        PrimaryContainerNotFoundError,
        RetriesExhaustedError,
        InvalidImageNameError,
        ImagePullBackOffError,
        NotInTaskContextError,
    ],
)
def test_code_message_worker_user_errors(cls: type[RuntimeUserError]) -> None:
    e = cls("C", "m", worker="w")
    assert isinstance(e, RuntimeUserError) and (e.code, e.kind, str(e), e.worker) == (
        "C",
        "user",
        "m",
        "w",
    )


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (ConditionTimedoutError, "ConditionTimedoutError"),
        (ConditionAlreadyExistsError, "ConditionAlreadyExistsError"),
        (ConditionFailedError, "ConditionFailedError"),
        (ConditionNotFoundError, "ConditionNotFoundError"),
        (RemoteTaskNotFoundError, "RemoteTaskNotFoundError"),
        (RemoteTaskUsageError, "RemoteTaskUsageError"),
        (DeploymentError, "DeploymentError"),
        (ImageBuildError, "ImageBuildError"),
        (ModuleLoadError, "ModuleLoadError"),
        (InlineIOMaxBytesBreached, "InlineIOMaxBytesBreached"),
        (ActionAbortedError, "ActionAbortedError"),
        (SlowDownError, "SlowDownError"),
        (ResourceExhaustedError, "SlowDownError"),
        (OnlyAsyncIOSupportedError, "OnlyAsyncIOSupportedError"),
        (ParameterMaterializationError, "ParameterMaterializationError"),
        (RestrictedTypeError, "RestrictedTypeUsage"),
        (CodeBundleError, "CodeBundleError"),
        (TraceDoesNotAllowNestedTasksError, "TraceDoesNotAllowNestedTasksError"),
        (SyncTaskCallInAsyncContextError, "SyncTaskCallInAsyncContextError"),
        (TaskTimeoutError, "TaskTimeoutError"),
        (MaxRuntimeExceededError, "MaxRuntimeExceededError"),
        (MaxQueuedTimeExceededError, "MaxQueuedTimeExceededError"),
        (DeadlineExceededError, "DeadlineExceededError"),
    ],
)
def test_message_only_user_errors(cls: Any, code: str) -> None:
    e = cls("went wrong")
    assert isinstance(e, RuntimeUserError)
    assert (e.code, e.kind, str(e)) == (code, "user", "went wrong")


def test_timeout_family() -> None:
    assert issubclass(MaxRuntimeExceededError, TaskTimeoutError)
    assert TaskTimeoutError("m", code="X").code == "X"
    assert issubclass(ResourceExhaustedError, SlowDownError)


def test_system_side_errors() -> None:
    rpc = UnionRpcError("Unavailable", "down")
    assert isinstance(rpc, RuntimeSystemError) and rpc.kind == "system"
    logs = LogsNotYetAvailableError("wait")
    assert (logs.code, logs.kind) == ("LogsNotYetAvailable", "system")
    init = InitializationError("NotInit", "user", "call flyte.init first")
    assert isinstance(init, BaseRuntimeError) and init.kind == "user"
    assert issubclass(ActionNotFoundError, RuntimeError)
    assert not issubclass(ActionNotFoundError, BaseRuntimeError)


def test_custom_error_and_from_exception() -> None:
    e = CustomError("MyCode", "custom")
    assert (e.code, e.kind) == ("MyCode", "user")
    original = KeyError("missing")
    wrapped = CustomError.from_exception(original)
    assert wrapped.code == "KeyError" and str(wrapped) == "'missing'"
    assert wrapped.__cause__ is original and wrapped.cause is original


def test_data_validation_and_invalid_package() -> None:
    e = RuntimeDataValidationError("x", ValueError("nope"), task_name="env.t")
    assert (
        e.code == "DataValidationError"
        and "In task env.t variable x" in str(e)
        and "nope" in str(e)
    )
    p = InvalidPackageError("libfoo", "E: Unable to locate package")
    assert p.package_name == "libfoo" and "libfoo" in str(p) and p.code == "InvalidPackageError"


def test_non_recoverable_error_is_not_retryable() -> None:
    e = NonRecoverableError("stop")
    assert (e.code, e.kind) == ("NonRecoverableError", "user")
    assert NonRecoverableError("x", code="Mine").code == "Mine"
    assert e.is_retryable is False and RuntimeUserError("a", "b").is_retryable is True


def test_gpu_fault_errors() -> None:
    assert "GpuXidError" in GPU_FAULT_CODES
    user = GPUFaultUserError("GpuXidError", "xid 31", fault_kind="xid", fault_code=31, gpu_index=0)
    assert isinstance(user, GPUFaultError) and isinstance(user, RuntimeUserError)
    assert (user.kind, user.xid, user.sxid, user.gpu_index) == ("user", 31, None, 0)
    system = GPUFaultSystemError("GpuFallenOffBus", "gone", fault_kind="sxid", fault_code=12)
    assert isinstance(system, RuntimeSystemError) and (system.kind, system.xid, system.sxid) == (
        "system",
        None,
        12,
    )
    bare = GPUFaultError("GpuGspError", "system", "gsp")
    assert bare.fault_kind is None and bare.xid is None


def test_apple_silicon_errors() -> None:
    classes = [
        AppleSiliconNotAvailableError,
        AppleSiliconHostExecFailedError,
        AppleSiliconDaemonStartFailedError,
        AppleSiliconDaemonOOMError,
        AppleSiliconModelNotFoundError,
        AppleSiliconBridgeUnreachableError,
    ]
    assert set(APPLE_SILICON_ERRORS_BY_CODE.values()) == set(classes)
    for cls in classes:
        e = cls("no metal")
        assert isinstance(e, AppleSiliconError) and e.code == cls.code_name
        assert APPLE_SILICON_ERRORS_BY_CODE[e.code] is cls
    assert AppleSiliconNotAvailableError.recoverable is False
    assert AppleSiliconDaemonOOMError.recoverable is True


@pytest.mark.parametrize(
    "error",
    [
        RuntimeSystemError("C", "m", worker="w"),
        ImageBuildError("bad image"),
        InvalidPackageError("libfoo", "missing"),
        GPUFaultUserError("GpuXidError", "x", fault_kind="xid", fault_code=13),
        AppleSiliconNotAvailableError("no mac"),
        RuntimeDataValidationError("x", "oops"),
    ],
)
def test_errors_pickle_round_trip_keeps_type_and_fields(error: BaseRuntimeError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert (copy.code, copy.kind, str(copy), copy.worker) == (
        error.code,
        error.kind,
        str(error),
        error.worker,
    )
    assert copy.__dict__ == error.__dict__


def test_silence_polling_error() -> None:
    seen: list[dict[str, Any]] = []

    class Loop:
        def default_exception_handler(self, context: dict[str, Any]) -> None:
            seen.append(context)

    silence_polling_error(Loop(), {"exception": BlockingIOError()})  # type: ignore[arg-type]
    assert seen == []
    silence_polling_error(Loop(), {"exception": ValueError()})  # type: ignore[arg-type]
    assert len(seen) == 1
    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(silence_polling_error)
    finally:
        loop.close()


def test_every_error_class_derives_from_flyte_error() -> None:
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, FlyteError), name
