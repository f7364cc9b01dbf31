"""Runtime data models: phases, ids, contexts and interfaces (owned by flyte-models)."""

from flyte_models import (
    MAX_INLINE_IO_BYTES,
    NULL_TASK_CONTEXT,
    ActionID,
    ActionPhase,
    CheckpointPaths,
    CodeBundle,
    GroupData,
    NativeInterface,
    RawDataPath,
    SerializationContext,
    TaskContext,
)

__all__ = [
    "MAX_INLINE_IO_BYTES",
    "NULL_TASK_CONTEXT",
    "ActionID",
    "ActionPhase",
    "CheckpointPaths",
    "CodeBundle",
    "GroupData",
    "NativeInterface",
    "RawDataPath",
    "SerializationContext",
    "TaskContext",
]
