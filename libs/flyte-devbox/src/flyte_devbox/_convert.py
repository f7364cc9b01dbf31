"""Records -> flyteidl2 messages (what the services send back)."""

from __future__ import annotations

from flyteidl2.common import cache_pb2, identifier_pb2, identity_pb2, phase_pb2
from flyteidl2.core import execution_pb2, literals_pb2
from flyteidl2.task import common_pb2, run_pb2, task_definition_pb2
from flyteidl2.workflow import run_definition_pb2, state_service_pb2
from google.protobuf import timestamp_pb2

from flyte_devbox._records import (
    CACHE_DISABLED,
    CACHE_HIT,
    CACHE_MISS,
    CACHE_SKIPPED,
    KIND_CONDITION,
    KIND_TASK,
    KIND_TRACE,
    ROOT_ACTION,
    ActionKey,
    ActionRecord,
    AttemptRecord,
    RunKey,
    RunRecord,
    TransitionRecord,
    is_terminal,
)

#: The identity every devbox call is attributed to (there is no real user management).
SUBJECT = "devbox"


def ts(seconds: float) -> timestamp_pb2.Timestamp:
    whole, nanos = divmod(round(seconds * 1_000_000_000), 1_000_000_000)
    return timestamp_pb2.Timestamp(seconds=int(whole), nanos=int(nanos))


def seconds(t: timestamp_pb2.Timestamp) -> float:
    return t.seconds + t.nanos / 1e9


def run_id(key: RunKey, org: str) -> identifier_pb2.RunIdentifier:
    return identifier_pb2.RunIdentifier(
        org=org, project=key.project, domain=key.domain, name=key.name
    )


def action_id(key: ActionKey, org: str) -> identifier_pb2.ActionIdentifier:
    return identifier_pb2.ActionIdentifier(run=run_id(key.run_key, org), name=key.name)


def identity() -> identity_pb2.EnrichedIdentity:
    return identity_pb2.EnrichedIdentity(
        user=identity_pb2.User(
            id=identifier_pb2.UserIdentifier(subject=SUBJECT),
            spec=identity_pb2.UserSpec(first_name="Devbox", last_name="User", email=""),
        )
    )


def error_info(raw: bytes) -> run_definition_pb2.ErrorInfo | None:
    if not raw:
        return None
    return run_definition_pb2.ErrorInfo.FromString(raw)


def execution_error(raw: bytes, error_uri: str = "") -> execution_pb2.ExecutionError | None:
    """The in-task controller's view of a failure (`ActionUpdate.error`)."""
    info = error_info(raw)
    if info is None:
        return None
    kind = {
        run_definition_pb2.ErrorInfo.KIND_USER: execution_pb2.ExecutionError.USER,
        run_definition_pb2.ErrorInfo.KIND_SYSTEM: execution_pb2.ExecutionError.SYSTEM,
    }.get(info.kind, execution_pb2.ExecutionError.UNKNOWN)
    return execution_pb2.ExecutionError(
        code=info.code, message=info.message, kind=kind, error_uri=error_uri
    )


def action_metadata(rec: ActionRecord, run: RunRecord | None) -> run_definition_pb2.ActionMetadata:
    md = run_definition_pb2.ActionMetadata(
        group=rec.group,
        executed_by=identity(),
        environment_name=rec.env_name,
    )
    if rec.parent:
        md.parent = rec.parent
    if rec.kind == KIND_TASK:
        org, project, domain, name, version = rec.task_id
        md.action_type = run_definition_pb2.ACTION_TYPE_TASK
        md.task.CopyFrom(
            run_definition_pb2.TaskActionMetadata(
                id=task_definition_pb2.TaskIdentifier(
                    org=org, project=project, domain=domain, name=name, version=version
                ),
                task_type=rec.task_type,
                short_name=rec.short_name,
            )
        )
        md.funtion_name = rec.short_name
    elif rec.kind == KIND_TRACE:
        md.action_type = run_definition_pb2.ACTION_TYPE_TRACE
        md.trace.name = rec.short_name
    elif rec.kind == KIND_CONDITION:
        md.action_type = run_definition_pb2.ACTION_TYPE_CONDITION
        cond = run_definition_pb2.ConditionAction.FromString(rec.spec)
        md.condition.CopyFrom(
            run_definition_pb2.ConditionActionMetadata(name=cond.name, type=cond.type)
        )
    if run is not None and rec.key.name == ROOT_ACTION:
        md.source = run.source  # type: ignore[assignment]
        if run.trigger is not None:
            md.trigger_name = run.trigger.name
            md.trigger_id.CopyFrom(
                identifier_pb2.TriggerIdentifier(
                    name=identifier_pb2.TriggerName(
                        org=run.org,
                        project=run.key.project,
                        domain=run.key.domain,
                        name=run.trigger.name,
                        task_name=run.trigger.task_name,
                    ),
                    revision=run.trigger_revision,
                )
            )
            if run.trigger_type:
                md.trigger_type.MergeFromString(run.trigger_type)
    return md


def action_status(rec: ActionRecord) -> run_definition_pb2.ActionStatus:
    status = run_definition_pb2.ActionStatus(
        phase=rec.phase,  # type: ignore[arg-type]
        start_time=ts(rec.start_time if rec.start_time is not None else rec.created_at),
        attempts=rec.attempts,
        cache_status=rec.cache_status,  # type: ignore[arg-type]
    )
    if is_terminal(rec.phase) and rec.end_time is not None:
        status.end_time.CopyFrom(ts(rec.end_time))
        start = rec.start_time if rec.start_time is not None else rec.created_at
        status.duration_ms = max(0, int((rec.end_time - start) * 1000))
    return status


def action(rec: ActionRecord, run: RunRecord | None = None) -> run_definition_pb2.Action:
    return run_definition_pb2.Action(
        id=action_id(rec.key, rec.org),
        metadata=action_metadata(rec, run),
        status=action_status(rec),
    )


def attempt(
    a: AttemptRecord,
    transitions: list[TransitionRecord],
    is_last: bool,
    rec: ActionRecord | None = None,
) -> run_definition_pb2.ActionAttempt:
    """One attempt; with `rec`, its cache status (and for a hit, the attempt it reused)."""
    msg = run_definition_pb2.ActionAttempt(
        phase=a.phase,  # type: ignore[arg-type]
        start_time=ts(a.start_time),
        attempt=a.attempt,
        logs_available=a.logs_available,
        cluster="devbox",
    )
    if rec is not None and rec.cache_status != CACHE_DISABLED:
        status = rec.cache_status
        if not is_last and status != CACHE_SKIPPED:
            status = CACHE_MISS  # an earlier attempt ran: it had missed the cache
        msg.cache_status = status  # type: ignore[assignment]
        if is_last and rec.cache_status == CACHE_HIT and rec.cache_source is not None:
            source = rec.cache_source
            msg.cache_metadata.CopyFrom(
                cache_pb2.CacheMetadata(
                    source_action_attempt=identifier_pb2.ActionAttemptIdentifier(
                        action_id=action_id(source.action, rec.org), attempt=source.attempt
                    )
                )
            )
    if a.end_time is not None:
        msg.end_time.CopyFrom(ts(a.end_time))
    info = error_info(a.error)
    if info is not None:
        msg.error_info.CopyFrom(info)
    if a.output_prefix:
        msg.outputs.CopyFrom(
            common_pb2.OutputReferences(
                output_uri=a.output_prefix.rstrip("/") + "/outputs.pb",
                report_uri=a.output_prefix.rstrip("/") + "/report.html",
            )
        )
    mine = [t for t in transitions if t.attempt == a.attempt]
    for i, t in enumerate(mine):
        pt = run_definition_pb2.PhaseTransition(phase=t.phase, start_time=ts(t.at))  # type: ignore[arg-type]
        if i + 1 < len(mine):
            pt.end_time.CopyFrom(ts(mine[i + 1].at))
        elif is_terminal(t.phase):
            pt.end_time.CopyFrom(ts(t.at))
        msg.phase_transitions.append(pt)
    return msg


def action_details(
    rec: ActionRecord,
    attempts: list[AttemptRecord],
    transitions: list[TransitionRecord],
    run: RunRecord | None,
) -> run_definition_pb2.ActionDetails:
    d = run_definition_pb2.ActionDetails(
        id=action_id(rec.key, rec.org),
        metadata=action_metadata(rec, run),
        status=action_status(rec),
    )
    info = error_info(rec.error)
    if info is not None:
        d.error_info.CopyFrom(info)
    elif rec.abort_info:
        d.abort_info.MergeFromString(rec.abort_info)
    elif rec.value:
        d.signal_info.CopyFrom(
            run_definition_pb2.SignalInfo(
                signalled_by=identity(), output=literals_pb2.Literal.FromString(rec.value)
            )
        )
    if rec.kind == KIND_TASK:
        d.task.MergeFromString(rec.spec)
    elif rec.kind == KIND_TRACE:
        trace = run_definition_pb2.TraceAction.FromString(rec.spec)
        d.trace.CopyFrom(trace.spec)
    elif rec.kind == KIND_CONDITION:
        d.condition.MergeFromString(rec.spec)
    for i, a in enumerate(attempts):
        d.attempts.append(attempt(a, transitions, i == len(attempts) - 1, rec))
    if not attempts and rec.kind != KIND_TASK:
        # Traces and conditions never run a process; show one attempt with their outcome.
        a = AttemptRecord(
            key=rec.key,
            attempt=1,
            phase=rec.phase,
            start_time=rec.start_time or rec.created_at,
            end_time=rec.end_time,
            error=rec.error,
        )
        d.attempts.append(attempt(a, transitions, True))
    return d


def run(rec: RunRecord, root: ActionRecord) -> run_definition_pb2.Run:
    return run_definition_pb2.Run(action=action(root, rec), labels=rec.labels)


def run_details(
    rec: RunRecord,
    root: ActionRecord,
    attempts: list[AttemptRecord],
    transitions: list[TransitionRecord],
) -> run_definition_pb2.RunDetails:
    return run_definition_pb2.RunDetails(
        run_spec=run_pb2.RunSpec.FromString(rec.run_spec),
        action=action_details(root, attempts, transitions, rec),
    )


def action_update(rec: ActionRecord) -> state_service_pb2.ActionUpdate:
    """What the in-task controller watches: phase, error and where the outputs are."""
    update = state_service_pb2.ActionUpdate(
        action_id=action_id(rec.key, rec.org),
        phase=rec.phase,  # type: ignore[arg-type]
        output_uri=rec.output_uri,
    )
    err = execution_error(rec.error)
    if err is not None:
        update.error.CopyFrom(err)
    if rec.value:
        update.value.MergeFromString(rec.value)
    return update


def phase_name(phase: int) -> str:
    try:
        return str(phase_pb2.ActionPhase.Name(phase)).removeprefix("ACTION_PHASE_")  # type: ignore[arg-type]
    except ValueError:
        return str(phase)
