"""The export surface of flyte-models is pinned: changing it is a deliberate, reviewed diff."""

from __future__ import annotations

import re
import types
from pathlib import Path

import flyte_models
import flyte_models.errors

EXPECTED_ALL = [
    "AMD_GPU",
    "APPLE_SILICON",
    "Accelerators",
    "ActionID",
    "ActionPhase",
    "AptPackages",
    "Architecture",
    "AsyncFunctionTaskTemplate",
    "Backoff",
    "Cache",
    "CacheBehavior",
    "CachePolicy",
    "CacheRequest",
    "CallCounter",
    "CheckpointPaths",
    "CodeBundle",
    "CodeBundleLayer",
    "Commands",
    "CopyConfig",
    "Cron",
    "Device",
    "DeviceClass",
    "DockerIgnore",
    "Docstring",
    "Documentation",
    "Env",
    "Environment",
    "FixedRate",
    "FunctionBodyPolicy",
    "GPU",
    "GroupData",
    "HABANA_GAUDI",
    "Image",
    "InputBindingError",
    "Layer",
    "Link",
    "MAX_INLINE_IO_BYTES",
    "NULL_TASK_CONTEXT",
    "NativeInterface",
    "Neuron",
    "OnArtifact",
    "PRIMARY_CONTAINER_DEFAULT_NAME",
    "PathRewrite",
    "PipOption",
    "PipPackages",
    "PixiProject",
    "PixiScript",
    "PodTemplate",
    "PoetryProject",
    "ProjectID",
    "PythonWheels",
    "RawDataPath",
    "Requirements",
    "Resources",
    "RetryStrategy",
    "ReusePolicy",
    "RunID",
    "RuntimeTaskTemplate",
    "Secret",
    "SecretRequest",
    "SerializationContext",
    "Syncify",
    "SyncifyDeadlockError",
    "TPU",
    "TaskCallHandler",
    "TaskContext",
    "TaskEnvironment",
    "TaskID",
    "TaskPluginRegistry",
    "TaskResolver",
    "TaskTemplate",
    "Timeout",
    "TimeoutType",
    "Trigger",
    "TriggerTime",
    "TriggeredArtifact",
    "TriggeredPartition",
    "UVProject",
    "UVScript",
    "VersionParameters",
    "WorkDir",
    "__version__",
    "cache_from_request",
    "current_task_context",
    "get_default_task_resolver",
    "get_task_call_handler",
    "list_loaded_environments",
    "retry_strategy_from_request",
    "run_sync",
    "secrets_from_request",
    "set_default_task_resolver",
    "set_task_call_handler",
    "syncify",
    "timeout_from_request",
    "use_task_context",
]

EXPECTED_ERRORS_ALL = [
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

_TESTS = Path(__file__).parent


def _public_vars(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", module.__name__) != "__future__"
        and name != "annotations"
    }


def test_all_matches_the_checked_in_list() -> None:
    assert flyte_models.__all__ == EXPECTED_ALL


def test_all_is_sorted_and_unique() -> None:
    assert flyte_models.__all__ == sorted(set(flyte_models.__all__))
    assert flyte_models.errors.__all__ == sorted(set(flyte_models.errors.__all__))


def test_all_matches_the_public_module_attributes() -> None:
    public = _public_vars(flyte_models) | {"__version__"}
    assert set(flyte_models.__all__) == public


def test_every_exported_name_resolves() -> None:
    for name in flyte_models.__all__:
        assert getattr(flyte_models, name) is not None or name == "__version__"
    for name in flyte_models.errors.__all__:
        assert getattr(flyte_models.errors, name) is not None


def test_errors_all_matches_the_checked_in_list_and_module() -> None:
    assert flyte_models.errors.__all__ == EXPECTED_ERRORS_ALL
    assert set(flyte_models.errors.__all__) == _public_vars(flyte_models.errors) - {
        "TYPE_CHECKING",
        "Any",
        "Literal",
        "NoReturn",
    }


def test_errors_module_is_reachable_from_the_package() -> None:
    assert flyte_models.errors.FlyteError.__module__ == "flyte_models.errors"


def test_every_public_name_is_exercised_by_some_test() -> None:
    """Each exported name appears in at least one other test module of this library."""
    text = "\n".join(
        p.read_text(encoding="utf-8")
        for p in _TESTS.glob("test_*.py")
        if p.name != Path(__file__).name
    )
    missing = [
        name
        for name in [*flyte_models.__all__, *flyte_models.errors.__all__]
        if not re.search(rf"\b{re.escape(name)}\b", text)
    ]
    assert missing == []
