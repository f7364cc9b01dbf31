"""The lingua franca of the Flyte SDK: identifiers, phases, task and environment specs, images, errors.

Every other flyte-* library builds on these value objects; this package imports only the standard
library. The main groups:

* Identifiers and phases: `ProjectID`, `RunID`, `ActionID`, `TaskID`, `ActionPhase`.
* Interfaces: `NativeInterface` (inputs with defaults, outputs `o0, o1, ...`), `Docstring`.
* Authoring specs: `TaskEnvironment`, `TaskTemplate`, `AsyncFunctionTaskTemplate`, `Image` and its
  layers, `Resources` (`GPU`, `TPU`, ...), `RetryStrategy`, `Cache`, `Timeout`, `Secret`,
  `ReusePolicy`, `PodTemplate`, `Trigger` (`Cron`, `FixedRate`, `OnArtifact`), `Documentation`.
* Execution context: `TaskContext`, `RawDataPath`, `current_task_context`, `use_task_context`,
  `SerializationContext`, `CodeBundle`.
* Extension points for the runtime: `set_task_call_handler`, `set_default_task_resolver`,
  `TaskPluginRegistry`.
* Async/sync bridge: `syncify`, `Syncify`, `run_sync`.
* Errors: the `flyte_models.errors` module.
"""

from flyte_models import _registry
from flyte_models._cache import (
    Cache,
    CacheBehavior,
    CachePolicy,
    CacheRequest,
    FunctionBodyPolicy,
    VersionParameters,
    cache_from_request,
)
from flyte_models._context import (
    MAX_INLINE_IO_BYTES,
    NULL_TASK_CONTEXT,
    CallCounter,
    CheckpointPaths,
    CodeBundle,
    GroupData,
    PathRewrite,
    RawDataPath,
    SerializationContext,
    TaskContext,
    current_task_context,
    use_task_context,
)
from flyte_models._docs import Documentation, Link
from flyte_models._environment import Environment, TaskEnvironment, list_loaded_environments
from flyte_models._identifiers import ActionID, ActionPhase, ProjectID, RunID, TaskID
from flyte_models._image import (
    AptPackages,
    Architecture,
    CodeBundleLayer,
    Commands,
    CopyConfig,
    DockerIgnore,
    Env,
    Image,
    Layer,
    PipOption,
    PipPackages,
    PixiProject,
    PixiScript,
    PoetryProject,
    PythonWheels,
    Requirements,
    UVProject,
    UVScript,
    WorkDir,
)
from flyte_models._interface import Docstring, InputBindingError, NativeInterface
from flyte_models._pod import PRIMARY_CONTAINER_DEFAULT_NAME, PodTemplate
from flyte_models._resources import (
    AMD_GPU,
    APPLE_SILICON,
    GPU,
    HABANA_GAUDI,
    TPU,
    Accelerators,
    Device,
    DeviceClass,
    Neuron,
    Resources,
)
from flyte_models._retry import Backoff, RetryStrategy, retry_strategy_from_request
from flyte_models._reuse import ReusePolicy
from flyte_models._secret import Secret, SecretRequest, secrets_from_request
from flyte_models._syncify import Syncify, SyncifyDeadlockError, run_sync, syncify
from flyte_models._task import (
    AsyncFunctionTaskTemplate,
    RuntimeTaskTemplate,
    TaskCallHandler,
    TaskPluginRegistry,
    TaskResolver,
    TaskTemplate,
    get_default_task_resolver,
    get_task_call_handler,
    set_default_task_resolver,
    set_task_call_handler,
)
from flyte_models._timeout import Timeout, TimeoutType, timeout_from_request
from flyte_models._trigger import (
    Cron,
    FixedRate,
    OnArtifact,
    Trigger,
    TriggeredArtifact,
    TriggeredPartition,
    TriggerTime,
)
from flyte_models._version import __version__

__all__ = [
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

_registry.register("flyte-models", __version__)
