"""The control-plane objects: `Run`, `Action`, `Condition`, `Task`, `Project`, `Trigger`, `Secret`, ...

They live in `flyte_client.remote`. A local run (`flyte.run` without a control plane) returns a
`LocalRun`, which is also an instance of `flyte.remote.Run` for `isinstance` checks.
"""

from flyte_client.remote import (
    Action,
    ActionDetails,
    ActionInputs,
    ActionOutputs,
    Condition,
    LazyEntity,
    PhaseTransitionInfo,
    Project,
    Run,
    RunDetails,
    Secret,
    SecretTypes,
    Task,
    TaskDetails,
    TimeFilter,
    Trigger,
    TriggerDetails,
    User,
    upload_dir,
    upload_file,
)
from flyte_runtime._run import LocalRun

Run.register(LocalRun)

__all__ = [
    "Action",
    "ActionDetails",
    "ActionInputs",
    "ActionOutputs",
    "Condition",
    "LazyEntity",
    "PhaseTransitionInfo",
    "Project",
    "Run",
    "RunDetails",
    "Secret",
    "SecretTypes",
    "Task",
    "TaskDetails",
    "TimeFilter",
    "Trigger",
    "TriggerDetails",
    "User",
    "upload_dir",
    "upload_file",
]
