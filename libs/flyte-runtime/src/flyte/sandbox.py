"""Sandboxed orchestrators (alpha): restricted pure-Python control flow run by pydantic-monty.

`@env.sandbox.orchestrator` and `orchestrator_from_str` make tasks whose code runs in the Monty
interpreter (no I/O, limits on time, memory and recursion); their calls to tasks run on the host.
Needs `pip install 'flyte-runtime[sandbox]'`. See `flyte_runtime._sandbox` for the details.
"""

from flyte_runtime._sandbox import (
    ORCHESTRATOR_SYNTAX_PROMPT,
    CodeTaskTemplate,
    SandboxAccessError,
    SandboxCrashedError,
    SandboxedConfig,
    SandboxedTaskTemplate,
    SandboxError,
    SandboxExecutionError,
    SandboxImportError,
    SandboxLimitError,
    SandboxMemoryError,
    SandboxRecursionError,
    SandboxSyntaxError,
    SandboxTimeoutError,
    SandboxTypeError,
    SandboxUnavailableError,
    SandboxViolationError,
    orchestrate_local,
    orchestrator_from_str,
)

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
