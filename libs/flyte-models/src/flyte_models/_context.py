"""What a running task can know about its execution, and where the runtime keeps it.

`TaskContext` is the value behind `flyte.ctx()`: the action and run ids, the raw-data prefix new
blobs are written under, input and output locations, the execution mode and the propagated custom
context. The runtime builds one per action attempt and installs it with `use_task_context`;
everything else reads it with `current_task_context()` (for example flyte-types, to find the raw
data prefix when offloading a file). Outside a task, `flyte.ctx()` returns `NULL_TASK_CONTEXT`,
which is falsy, so `if flyte.ctx():` answers "am I running inside a task?".

The holder is a `contextvars.ContextVar`, so each asyncio task and thread sees the context of the
code that started it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import pathlib
import posixpath
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

from flyte_models._identifiers import ActionID

__all__ = [
    "MAX_INLINE_IO_BYTES",
    "NULL_TASK_CONTEXT",
    "CallCounter",
    "CheckpointPaths",
    "CodeBundle",
    "GroupData",
    "PathRewrite",
    "RawDataPath",
    "SerializationContext",
    "TaskContext",
    "current_task_context",
    "use_task_context",
]

MAX_INLINE_IO_BYTES = 10 * 1024 * 1024
"""Default cap (10 MiB) on the inline (non-offloaded) inputs and outputs of one task call."""


@dataclass(frozen=True)
class PathRewrite:
    """Rewrite paths that start with one prefix to start with another (e.g. `s3://a->/mnt/a`).

    Args:
        old_prefix: The prefix to replace. Must be non-empty.
        new_prefix: The replacement. Must be non-empty and differ from `old_prefix`.
    """

    old_prefix: str
    new_prefix: str

    def __post_init__(self) -> None:
        if not isinstance(self.old_prefix, str) or not self.old_prefix:
            raise ValueError(
                f"PathRewrite.old_prefix must be a non-empty str, got {self.old_prefix!r}"
            )
        if not isinstance(self.new_prefix, str) or not self.new_prefix:
            raise ValueError(
                f"PathRewrite.new_prefix must be a non-empty str, got {self.new_prefix!r}"
            )
        if self.old_prefix == self.new_prefix:
            raise ValueError(
                f"PathRewrite.new_prefix must differ from old_prefix, both are {self.old_prefix!r}"
            )

    @classmethod
    def from_str(cls, pattern: str) -> PathRewrite:
        """Parse `old_prefix->new_prefix`.

        Args:
            pattern: The rewrite, as `old->new`.

        Returns:
            The rewrite.

        Raises:
            ValueError: If `pattern` does not contain exactly one `->`.
        """
        parts = pattern.split("->")
        if len(parts) != 2:
            raise ValueError(
                f"pattern must have the form 'old_prefix->new_prefix', got {pattern!r}"
            )
        return cls(old_prefix=parts[0], new_prefix=parts[1])

    def rewrite(self, path: str) -> str:
        """Apply the rewrite to `path` (returned unchanged when it lacks the old prefix)."""
        if path.startswith(self.old_prefix):
            return self.new_prefix + path[len(self.old_prefix) :]
        return path

    def __repr__(self) -> str:
        return f"{self.old_prefix}->{self.new_prefix}"


def _split_protocol(path: str) -> tuple[str, str]:
    if "://" in path:
        scheme, _, rest = path.partition("://")
        return scheme.lower(), rest
    return "file", path


@dataclass(frozen=True, kw_only=True)
class RawDataPath:
    """The prefix under which a task writes new blobs (files, directories, dataframes).

    Args:
        path: A local directory or a remote prefix such as `s3://bucket/raw`.
        path_rewrite: Optional rewrite applied when reading inputs.
    """

    path: str
    path_rewrite: PathRewrite | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path:
            raise ValueError(f"RawDataPath.path must be a non-empty str, got {self.path!r}")
        if self.path_rewrite is not None and not isinstance(self.path_rewrite, PathRewrite):
            raise TypeError(
                f"RawDataPath.path_rewrite must be a PathRewrite or None, got {self.path_rewrite!r}"
            )

    @classmethod
    def from_local_folder(cls, local_folder: str | pathlib.Path | None = None) -> RawDataPath:
        """Use a local directory as the raw data prefix, creating it if needed.

        Args:
            local_folder: The directory; a fresh temporary directory when omitted.

        Returns:
            The raw data path.

        Raises:
            TypeError: If `local_folder` is neither a path, a str nor `None`.
        """
        if local_folder is None:
            import tempfile

            return cls(path=tempfile.mkdtemp(prefix="flyte-raw-"))
        if isinstance(local_folder, pathlib.Path):
            local_folder.mkdir(parents=True, exist_ok=True)
            return cls(path=str(local_folder))
        if isinstance(local_folder, str):
            return cls(path=local_folder)
        raise TypeError(f"local_folder must be a str, a pathlib.Path or None, got {local_folder!r}")

    @property
    def is_local(self) -> bool:
        """Whether the prefix is on the local file system (no scheme or `file://`)."""
        return _split_protocol(self.path)[0] == "file"

    def get_random_remote_path(self, file_name: str | None = None) -> str:
        """Return a fresh, unique location under the prefix. Nothing is created.

        Args:
            file_name: If given, appended after the random component, so the result ends with
                this name.

        Returns:
            `<prefix>/<random hex>[/<file_name>]`; an absolute path for a local prefix, a URL with
            the same scheme for a remote one.
        """
        random_part = uuid.uuid4().hex
        protocol, _ = _split_protocol(self.path)
        if protocol == "file":
            base = self.path[len("file://") :] if self.path.startswith("file://") else self.path
            local = os.path.join(os.path.abspath(base), random_part)
            return os.path.join(local, file_name) if file_name else local
        prefix = self.path.rstrip("/")
        remote = (
            posixpath.join(prefix, random_part)
            if not prefix.endswith("://")
            else prefix + random_part
        )
        return posixpath.join(remote, file_name) if file_name else remote


@dataclass(frozen=True)
class GroupData:
    """The `flyte.group(...)` a call is made in.

    Args:
        name: The group name.
    """

    name: str


@dataclass(frozen=True)
class CheckpointPaths:
    """Checkpoint locations given to an action attempt by the platform.

    Args:
        prev_checkpoint_path: Where the previous attempt saved its checkpoint, if any.
        checkpoint_path: Where this attempt saves its checkpoint, if any.
    """

    prev_checkpoint_path: str | None
    checkpoint_path: str | None


@dataclass(frozen=True, kw_only=True)
class CodeBundle:
    """A packaged copy of the user's code that workers download and unpack before loading tasks.

    Exactly the bundle formats the runtime understands: a `tgz` of source files (loaded through a
    task resolver), or a `pkl` of the pickled task.

    Args:
        computed_version: Digest of the bundle contents; the default task version.
        destination: Directory the bundle is unpacked into (`.` = working directory).
        tgz: URI of the tar.gz archive.
        pkl: URI of the pickled bundle.
        downloaded_path: Where the bundle was downloaded to (set in the worker).
        files: The files in the bundle, relative to the root directory, when known.
    """

    computed_version: str
    destination: str = "."
    tgz: str | None = None
    pkl: str | None = None
    downloaded_path: pathlib.Path | None = None
    files: list[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.computed_version, str) or not self.computed_version:
            raise ValueError(
                f"CodeBundle.computed_version must be a non-empty str, got {self.computed_version!r}"
            )
        if self.tgz is None and self.pkl is None:
            raise ValueError(
                f"CodeBundle needs tgz or pkl, got tgz={self.tgz!r} and pkl={self.pkl!r}"
            )

    def with_downloaded_path(self, path: pathlib.Path) -> CodeBundle:
        """Return a copy that records where the bundle was downloaded to."""
        return replace(self, downloaded_path=path)


class CallCounter:
    """Numbers identical sub-action calls made from one action: `f(); f(); f()` gives 1, 2, 3.

    The number is one component of the deterministic child action name. Each `TaskContext` owns a
    counter, so numbering restarts for every action attempt.
    """

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def next(self, call_key: str) -> int:
        """Return the next number (from 1) for `call_key`.

        Args:
            call_key: Everything that goes into the child name (task, inputs digest, group).

        Returns:
            The sequence number.
        """
        seq = self._counts.get(call_key, 0) + 1
        self._counts[call_key] = seq
        return seq

    def __repr__(self) -> str:
        return f"CallCounter({self._counts})"


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value is not None else None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, kw_only=True)
class TaskContext:
    """The execution context of a running task, as returned by `flyte.ctx()`.

    Args:
        action: The id of the running action.
        version: The version of the running task.
        raw_data_path: Prefix for new blobs written by the task.
        input_path: Where the inputs were read from, if known.
        output_path: Where the outputs (and report, error) are written.
        run_base_dir: The run's base directory; child inputs go under it.
        report: The task's report object (a `flyte.report.Report` in the runtime).
        group_data: The enclosing `flyte.group`, if any.
        checkpoint_paths: Checkpoint locations for this attempt, if any.
        code_bundle: The code bundle the task was loaded from, if any.
        compiled_image_cache: The image lookup table passed to the worker, if any.
        data: Free-form per-attempt data (plugins store their state here).
        mode: `"local"`, `"remote"` or `"hybrid"`.
        interactive_mode: Whether the run was started from a notebook or REPL.
        custom_context: Key/value metadata propagated to every child action.
        disable_run_cache: Whether cache lookups are disabled for this run.
        in_driver_literal_conversion: Set while the runtime converts values for nested calls.
        run_start_time: When the run was started (UTC); now, when not given.
        task_action: The action of the task itself, stable across `flyte.trace` scopes; defaults
            to `action`.
        _call_counter: Sequence numbers of identical sub-action calls.
    """

    CHECKPOINT_DATA_KEY: ClassVar[str] = "flyte.checkpoint"
    """Key in `data` under which the runtime stores the attempt's checkpoint helper."""

    action: ActionID
    version: str
    raw_data_path: RawDataPath
    input_path: str | None = None
    output_path: str
    run_base_dir: str
    report: Any = None
    group_data: GroupData | None = None
    checkpoint_paths: CheckpointPaths | None = None
    code_bundle: CodeBundle | None = None
    compiled_image_cache: Any = None
    data: dict[str, Any] = field(default_factory=dict)
    mode: Literal["local", "remote", "hybrid"] = "remote"
    interactive_mode: bool = False
    custom_context: dict[str, str] = field(default_factory=dict)
    disable_run_cache: bool = False
    in_driver_literal_conversion: bool = False
    run_start_time: datetime | None = field(default_factory=_utc_now)
    task_action: ActionID | None = None
    _call_counter: CallCounter = field(default_factory=CallCounter, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.action, ActionID):
            raise TypeError(f"TaskContext.action must be an ActionID, got {self.action!r}")
        if not isinstance(self.raw_data_path, RawDataPath):
            raise TypeError(
                f"TaskContext.raw_data_path must be a RawDataPath, got {self.raw_data_path!r}"
            )
        if self.mode not in ("local", "remote", "hybrid"):
            raise ValueError(
                f"TaskContext.mode must be 'local', 'remote' or 'hybrid', got {self.mode!r}"
            )
        if self.task_action is None:
            object.__setattr__(self, "task_action", self.action)

    def replace(self, **kwargs: Any) -> TaskContext:
        """Return a copy with some fields changed.

        `data` is merged into the existing data rather than replacing it (pass `data=None` to keep
        it as is). A copy for a different `action` gets a fresh call counter; a copy for the same
        action (e.g. entering a group) shares it.

        Args:
            **kwargs: Field values to change.

        Returns:
            The new context.
        """
        if "action" in kwargs and kwargs["action"] != self.action:
            kwargs.setdefault("_call_counter", CallCounter())
        if "data" in kwargs:
            new_data = kwargs.pop("data")
            if new_data is not None:
                merged = dict(self.data or {})
                merged.update(new_data)
                kwargs["data"] = merged
        return replace(self, **kwargs)

    def __getitem__(self, key: str) -> Any:
        return (self.data or {}).get(key)

    def is_in_cluster(self) -> bool:
        """Whether the task runs remotely (in a cluster), as opposed to locally."""
        return self.mode == "remote"

    @property
    def checkpoint(self) -> Any:
        """The checkpoint helper of this attempt (`flyte.Checkpoint`), or `None`.

        The runtime creates it and stores it in `data` under `CHECKPOINT_DATA_KEY` when the
        attempt has a checkpoint path.
        """
        return (self.data or {}).get(self.CHECKPOINT_DATA_KEY)

    @property
    def attempt_number(self) -> int:
        """The attempt number of this action (`FLYTE_ATTEMPT_NUMBER`, 0 when unset)."""
        return int(os.environ.get("FLYTE_ATTEMPT_NUMBER", "0"))

    @property
    def rank(self) -> int | None:
        """Global rank of this worker in a distributed task (`RANK`)."""
        return _env_int("RANK")

    @property
    def local_rank(self) -> int | None:
        """Rank of this worker on its node (`LOCAL_RANK`)."""
        return _env_int("LOCAL_RANK")

    @property
    def world_size(self) -> int | None:
        """Number of workers in a distributed task (`WORLD_SIZE`)."""
        return _env_int("WORLD_SIZE")

    @property
    def local_world_size(self) -> int | None:
        """Number of workers on this node (`LOCAL_WORLD_SIZE`)."""
        return _env_int("LOCAL_WORLD_SIZE")

    @property
    def node_rank(self) -> int | None:
        """Rank of this node (`NODE_RANK`)."""
        return _env_int("NODE_RANK")

    @property
    def nnodes(self) -> int | None:
        """Number of nodes (`NNODES`)."""
        return _env_int("NNODES")

    @property
    def master_addr(self) -> str | None:
        """Address of the rank-0 worker (`MASTER_ADDR`)."""
        return os.environ.get("MASTER_ADDR")

    @property
    def master_port(self) -> int | None:
        """Port of the rank-0 worker (`MASTER_PORT`)."""
        return _env_int("MASTER_PORT")

    @property
    def restart_attempt(self) -> int | None:
        """How many times a clustered job restarted its pods (`JOBSET_RESTART_ATTEMPT`)."""
        return _env_int("JOBSET_RESTART_ATTEMPT")


class _NullTaskContext(TaskContext):
    """The falsy stand-in for "no task is running": every field reads as `None`."""

    def __init__(self) -> None:
        for f in fields(TaskContext):
            object.__setattr__(self, f.name, None)

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "NullTaskContext()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _NullTaskContext)

    def __hash__(self) -> int:
        return hash(_NullTaskContext)


NULL_TASK_CONTEXT: TaskContext = _NullTaskContext()
"""The falsy context returned by `flyte.ctx()` outside a task."""

_CURRENT: contextvars.ContextVar[TaskContext | None] = contextvars.ContextVar(
    "flyte_task_context", default=None
)


def current_task_context() -> TaskContext | None:
    """Return the context of the running task, or `None` outside a task."""
    return _CURRENT.get()


@contextlib.contextmanager
def use_task_context(tctx: TaskContext | None) -> Iterator[TaskContext | None]:
    """Make `tctx` the current task context inside the `with` block.

    Used by the runtime around a task body; nesting restores the outer context on exit.

    Args:
        tctx: The context to install; `None` (or `NULL_TASK_CONTEXT`) clears it.

    Yields:
        The installed context.

    Raises:
        TypeError: If `tctx` is not a `TaskContext` or `None`.
    """
    if tctx is not None and not isinstance(tctx, TaskContext):
        raise TypeError(f"tctx must be a TaskContext or None, got {tctx!r}")
    value = tctx if tctx else None
    token = _CURRENT.set(value)
    try:
        yield value
    finally:
        _CURRENT.reset(token)


@dataclass(frozen=True)
class SerializationContext:
    """What is known when a task is turned into its deployable form (deploy or run submission).

    The `{{.x}}` strings are placeholders the backend substitutes when it starts the container
    (see the `a0` arguments in PROTOCOL.md section 3.3).

    Args:
        version: The task version.
        project: The project name.
        domain: The domain.
        org: The organisation, if any.
        code_bundle: The uploaded code bundle, if any.
        input_path: Where the worker reads its inputs (placeholder by default).
        output_path: Where the worker writes its outputs (placeholder by default).
        interpreter_path: The Python interpreter in the image.
        image_cache: The image lookup table (built image URIs), if any.
        root_dir: The local source root the code bundle was made from.
    """

    INPUT_PATH: ClassVar[str] = "{{.input}}"
    OUTPUT_PREFIX: ClassVar[str] = "{{.outputPrefix}}"
    RAW_OUTPUT_DATA_PREFIX: ClassVar[str] = "{{.rawOutputDataPrefix}}"
    CHECKPOINT_OUTPUT_PREFIX: ClassVar[str] = "{{.checkpointOutputPrefix}}"
    PREV_CHECKPOINT_PREFIX: ClassVar[str] = "{{.prevCheckpointPrefix}}"
    RUN_NAME: ClassVar[str] = "{{.runName}}"
    ACTION_NAME: ClassVar[str] = "{{.actionName}}"
    RUN_START_TIME: ClassVar[str] = "{{.runStartTime}}"

    version: str
    project: str | None = None
    domain: str | None = None
    org: str | None = None
    code_bundle: CodeBundle | None = None
    input_path: str = "{{.input}}"
    output_path: str = "{{.outputPrefix}}"
    interpreter_path: str = "/opt/venv/bin/python"
    image_cache: Any = None
    root_dir: pathlib.Path | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise ValueError(
                f"SerializationContext.version must be a non-empty str, got {self.version!r}"
            )
        if self.code_bundle is not None and not isinstance(self.code_bundle, CodeBundle):
            raise TypeError(
                f"SerializationContext.code_bundle must be a CodeBundle or None, got {self.code_bundle!r}"
            )

    def get_entrypoint_path(self, interpreter_path: str | None = None) -> str:
        """Return the path of `runtime.py` next to the interpreter.

        Args:
            interpreter_path: Overrides `interpreter_path`.

        Returns:
            The entrypoint path.
        """
        interpreter = interpreter_path if interpreter_path is not None else self.interpreter_path
        return os.path.join(os.path.dirname(interpreter), "runtime.py")
