"""The flyteidl2 service implementations (connectrpc async protocols) over the engine.

Each class subclasses the generated Protocol, so any RPC not written here answers
UNIMPLEMENTED (with the method named, see `_rpc.NamedUnimplemented`). Request validation
(protovalidate) and error mapping happen in interceptors, not in these methods.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from connectrpc.request import RequestContext
from flyteidl2.actions import actions_service_connect, actions_service_pb2
from flyteidl2.auth import auth_service_connect, auth_service_pb2, identity_connect, identity_pb2
from flyteidl2.cluster import payload_pb2 as cluster_pb2
from flyteidl2.cluster import service_connect as cluster_connect
from flyteidl2.common import identifier_pb2, list_pb2
from flyteidl2.common import run_pb2 as common_run_pb2
from flyteidl2.core import literals_pb2
from flyteidl2.dataproxy import dataproxy_service_connect, dataproxy_service_pb2
from flyteidl2.logs.dataplane import payload_pb2 as logs_pb2
from flyteidl2.project import project_service_connect, project_service_pb2
from flyteidl2.task import (
    common_pb2,
    run_pb2,
    task_definition_pb2,
    task_service_connect,
    task_service_pb2,
)
from flyteidl2.trigger import trigger_definition_pb2, trigger_service_connect, trigger_service_pb2
from flyteidl2.workflow import (
    queue_service_connect,
    queue_service_pb2,
    run_definition_pb2,
    run_logs_service_connect,
    run_logs_service_pb2,
    run_service_connect,
    run_service_pb2,
    state_service_connect,
    state_service_pb2,
)
from google.protobuf import duration_pb2

from flyte_devbox import _convert, _listing
from flyte_devbox._blobs import UrlSigner, md5_b64
from flyte_devbox._config import DEFAULT_DOMAINS, DevboxConfig
from flyte_devbox._engine import Engine, NewAction, new_run_name, with_default_inputs
from flyte_devbox._errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from flyte_devbox._launch import container_args
from flyte_devbox._process import read_log_lines
from flyte_devbox._records import (
    KIND_CONDITION,
    KIND_TASK,
    KIND_TRACE,
    ROOT_ACTION,
    ActionKey,
    ActionRecord,
    ProjectRecord,
    RunKey,
    RunRecord,
    TaskKey,
    TaskRecord,
    TriggerKey,
    TriggerRecord,
    is_terminal,
)
from flyte_devbox._triggers import TriggerScheduler, check_automation, trigger_inputs

logger = logging.getLogger("flyte_devbox")

_TRIGGER_DEPLOY = trigger_definition_pb2.TRIGGER_REVISION_ACTION_DEPLOY
_TRIGGER_ACTIVATE = trigger_definition_pb2.TRIGGER_REVISION_ACTION_ACTIVATE
_TRIGGER_DEACTIVATE = trigger_definition_pb2.TRIGGER_REVISION_ACTION_DEACTIVATE


def _run_key(rid: identifier_pb2.RunIdentifier) -> RunKey:
    return RunKey(rid.project, rid.domain, rid.name)


def _action_key(aid: identifier_pb2.ActionIdentifier) -> ActionKey:
    return ActionKey(aid.run.project, aid.run.domain, aid.run.name, aid.name)


class Context:
    """What the services share."""

    def __init__(
        self, config: DevboxConfig, engine: Engine, signer: UrlSigner, triggers: TriggerScheduler
    ) -> None:
        self.config = config
        self.engine = engine
        self.store = engine.store
        self.blobs = engine.blobs
        self.signer = signer
        self.triggers = triggers

    def ensure_project(self, project: str, org: str = "") -> None:
        """Projects come into existence on first use; a devbox has no admin to create them."""
        if self.store.get_project(project) is None:
            self.store.upsert_project(
                ProjectRecord(
                    name=project,
                    org=org,
                    display_name=project,
                    description="",
                    labels={},
                    state=0,
                    domains=list(DEFAULT_DOMAINS),
                    created_at=time.time(),
                )
            )

    def task(self, tid: task_definition_pb2.TaskIdentifier) -> TaskRecord:
        if tid.version:
            rec = self.store.get_task(TaskKey(tid.project, tid.domain, tid.name, tid.version))
        else:
            rec = self.store.latest_task(tid.project, tid.domain, tid.name)
        if rec is None:
            version = f" version {tid.version!r}" if tid.version else ""
            raise NotFound(f"task {tid.project}/{tid.domain}/{tid.name}{version} is not deployed")
        return rec

    def trigger(self, name: identifier_pb2.TriggerName) -> TriggerRecord:
        if name.task_name:
            rec = self.store.get_trigger(
                TriggerKey(name.project, name.domain, name.task_name, name.name)
            )
            if rec is None:
                raise NotFound(f"trigger {name.name!r} of task {name.task_name!r} not found")
            return rec
        found = self.store.find_triggers(name.project, name.domain, name.name)
        if not found:
            raise NotFound(f"trigger {name.name!r} not found in {name.project}/{name.domain}")
        if len(found) > 1:
            raise InvalidArgument(
                f"trigger name {name.name!r} is used by several tasks; set task_name"
            )
        return found[0]

    def cache_ignored(self, spec: task_definition_pb2.TaskSpec | None) -> set[str]:
        if spec is None:
            return set()
        return set(spec.task_template.metadata.cache_ignore_input_vars)


def _inputs_hash(inputs: common_pb2.Inputs, ignored: set[str]) -> str:
    kept = common_pb2.Inputs()
    for nl in sorted(inputs.literals, key=lambda n: n.name):
        if nl.name not in ignored:
            kept.literals.append(nl)
    digest = hashlib.sha256(kept.SerializeToString(deterministic=True)).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


# ------------------------------------------------------------------------------- RunService


class RunService(run_service_connect.RunService):
    def __init__(self, ctx: Context) -> None:
        self.c = ctx
        self.engine = ctx.engine

    async def create_run(
        self, request: run_service_pb2.CreateRunRequest, ctx: RequestContext
    ) -> run_service_pb2.CreateRunResponse:
        c = self.c
        if request.WhichOneof("id") == "run_id":
            org = request.run_id.org
            key = RunKey(
                request.run_id.project, request.run_id.domain, request.run_id.name or new_run_name()
            )
        else:
            pid = request.project_id
            org = pid.organization
            key = RunKey(pid.name, pid.domain, new_run_name())
        c.ensure_project(key.project, org)
        which = request.WhichOneof("task")
        run_spec = request.run_spec
        trigger: TriggerRecord | None = None
        if which == "task_spec":
            spec = request.task_spec
        elif which == "task_id":
            spec = task_definition_pb2.TaskSpec.FromString(c.task(request.task_id).spec)
        else:
            trigger = c.trigger(request.trigger_name)
            t = trigger.key
            spec = task_definition_pb2.TaskSpec.FromString(
                c.task(
                    task_definition_pb2.TaskIdentifier(
                        org=trigger.org,
                        project=t.project,
                        domain=t.domain,
                        name=t.task_name,
                        version=trigger.task_version,
                    )
                ).spec
            )
            if not request.HasField("run_spec"):
                tspec = trigger_definition_pb2.TriggerSpec.FromString(trigger.spec)
                run_spec = tspec.run_spec
        inputs_which = request.WhichOneof("input_wrapper")
        if inputs_which == "offloaded_input_data":
            input_uri = request.offloaded_input_data.uri
        elif inputs_which == "inputs":
            directory, _ = await self.engine.offload_inputs(
                key.project, key.domain, with_default_inputs(request.inputs, spec)
            )
            input_uri = directory
        elif trigger is not None:
            tspec = trigger_definition_pb2.TriggerSpec.FromString(trigger.spec)
            input_uri = await trigger_inputs(self.engine, trigger, tspec, spec)
        else:
            directory, _ = await self.engine.offload_inputs(
                key.project, key.domain, with_default_inputs(common_pb2.Inputs(), spec)
            )
            input_uri = directory
        start = (
            _convert.seconds(request.run_start_time) if request.HasField("run_start_time") else None
        )
        run, root = await self.engine.create_run(
            key=key,
            org=org,
            spec=spec,
            input_uri=input_uri,
            run_spec=run_spec,
            run_start_time=start,
            source=request.source,
            trigger=trigger.key if trigger else None,
            trigger_revision=trigger.revision if trigger else 0,
            trigger_type=trigger.automation if trigger else b"",
        )
        return run_service_pb2.CreateRunResponse(run=_convert.run(run, root))

    async def abort_run(
        self, request: run_service_pb2.AbortRunRequest, ctx: RequestContext
    ) -> run_service_pb2.AbortRunResponse:
        key = _run_key(request.run_id)
        self.engine.get_run(key)
        await self.engine.abort(key.action(ROOT_ACTION), request.reason or "run aborted")
        return run_service_pb2.AbortRunResponse()

    async def get_run_details(
        self, request: run_service_pb2.GetRunDetailsRequest, ctx: RequestContext
    ) -> run_service_pb2.GetRunDetailsResponse:
        return run_service_pb2.GetRunDetailsResponse(
            details=self.engine.run_details(_run_key(request.run_id))
        )

    async def watch_run_details(  # type: ignore[override]
        self, request: run_service_pb2.WatchRunDetailsRequest, ctx: RequestContext
    ) -> AsyncIterator[run_service_pb2.WatchRunDetailsResponse]:
        key = _run_key(request.run_id)
        root = key.action(ROOT_ACTION)
        with self.engine.hub.subscribe(("action", root)) as sub:
            while True:
                details = self.engine.run_details(key)
                yield run_service_pb2.WatchRunDetailsResponse(details=details)
                if is_terminal(details.action.status.phase):
                    return
                if await sub.get(self.engine.closing) is None and self.engine.closing.is_set():
                    return
                sub.drain()

    async def get_action_details(
        self, request: run_service_pb2.GetActionDetailsRequest, ctx: RequestContext
    ) -> run_service_pb2.GetActionDetailsResponse:
        return run_service_pb2.GetActionDetailsResponse(
            details=self.engine.action_details(_action_key(request.action_id))
        )

    async def watch_action_details(  # type: ignore[override]
        self, request: run_service_pb2.WatchActionDetailsRequest, ctx: RequestContext
    ) -> AsyncIterator[run_service_pb2.WatchActionDetailsResponse]:
        key = _action_key(request.action_id)
        with self.engine.hub.subscribe(("action", key)) as sub:
            while True:
                details = self.engine.action_details(key)
                yield run_service_pb2.WatchActionDetailsResponse(details=details)
                if is_terminal(details.status.phase):
                    return
                if await sub.get(self.engine.closing) is None and self.engine.closing.is_set():
                    return
                sub.drain()

    async def get_action_data(
        self, request: run_service_pb2.GetActionDataRequest, ctx: RequestContext
    ) -> run_service_pb2.GetActionDataResponse:
        inputs, outputs, _, _ = await self.engine.action_data(_action_key(request.action_id))
        return run_service_pb2.GetActionDataResponse(inputs=inputs, outputs=outputs)

    async def get_action_data_u_r_is(
        self, request: run_service_pb2.GetActionDataURIsRequest, ctx: RequestContext
    ) -> run_service_pb2.GetActionDataURIsResponse:
        rec = self.engine.get_action(_action_key(request.action_id))
        inputs_uri = rec.input_uri
        if inputs_uri and not inputs_uri.endswith(".pb"):
            inputs_uri = inputs_uri.rstrip("/") + "/inputs.pb"
        return run_service_pb2.GetActionDataURIsResponse(
            inputs_uri=inputs_uri, outputs_uri=self.engine.outputs_uri(rec)
        )

    def _run_list(self, project: str | None, domain: str | None) -> list[RunRecord]:
        return self.c.store.list_runs(
            project=project, domain=domain, limit=-1, order_by="created_at DESC"
        )

    async def list_runs(
        self, request: run_service_pb2.ListRunsRequest, ctx: RequestContext
    ) -> run_service_pb2.ListRunsResponse:
        scope = request.WhichOneof("scope_by")
        project = domain = None
        extra: list[list_pb2.Filter] = []
        if scope == "project_id":
            project, domain = request.project_id.name, request.project_id.domain
        elif scope == "trigger_name":
            tn = request.trigger_name
            project, domain = tn.project, tn.domain
            extra.append(_eq("trigger_name", tn.name))
            if tn.task_name:
                extra.append(_eq("trigger_task", tn.task_name))
        elif scope == "task_name":
            project, domain = request.task_name.project, request.task_name.domain
            extra.append(_eq("task_name", request.task_name.name))
        elif scope == "task_id":
            tid = request.task_id
            project, domain = tid.project, tid.domain
            extra += [_eq("task_name", tid.name), _eq("task_version", tid.version)]
        runs = self._run_list(project, domain)
        if request.paused_actions_only:
            runs = [r for r in runs if self._has_paused(r.key)]
        chosen, token = _listing.page(
            runs,
            request.request,
            _run_fields,
            filterable=_RUN_FIELDS,
            default_sort=("created_at", True),
            extra_filters=extra,
        )
        return run_service_pb2.ListRunsResponse(
            runs=[self._run_msg(r) for r in chosen], token=token
        )

    def _has_paused(self, key: RunKey) -> bool:
        return any(a.phase == 9 for a in self.c.store.list_actions(key))

    def _run_msg(self, run: RunRecord) -> run_definition_pb2.Run:
        return _convert.run(run, self.engine.get_action(run.key.action(ROOT_ACTION)))

    async def watch_runs(  # type: ignore[override]
        self, request: run_service_pb2.WatchRunsRequest, ctx: RequestContext
    ) -> AsyncIterator[run_service_pb2.WatchRunsResponse]:
        target = request.WhichOneof("target")
        project = domain = None
        task: tuple[str, str] | None = None
        if target == "project_id":
            project, domain = request.project_id.name, request.project_id.domain
        elif target == "task_id":
            project, domain = request.task_id.project, request.task_id.domain
            task = (request.task_id.name, request.task_id.version)

        def wanted(r: RunRecord) -> bool:
            if project is not None and (r.key.project, r.key.domain) != (project, domain):
                return False
            return task is None or (r.task_name, r.task_version) == task

        with self.engine.hub.subscribe(("runs",)) as sub:
            initial = [r for r in self._run_list(project, domain)[:100] if wanted(r)]
            yield run_service_pb2.WatchRunsResponse(runs=[self._run_msg(r) for r in initial])
            while True:
                item = await sub.get(self.engine.closing)
                if item is None:
                    return
                keys = {item, *sub.drain()}
                runs = [r for k in keys if (r := self.c.store.get_run(k)) is not None and wanted(r)]
                if runs:
                    yield run_service_pb2.WatchRunsResponse(runs=[self._run_msg(r) for r in runs])

    async def list_actions(
        self, request: run_service_pb2.ListActionsRequest, ctx: RequestContext
    ) -> run_service_pb2.ListActionsResponse:
        key = _run_key(request.run_id)
        self.engine.get_run(key)
        actions = [self.engine.get_action(a.key) for a in self.c.store.list_actions(key)]
        chosen, token = _listing.page(
            actions,
            request.request,
            _action_fields,
            filterable=_ACTION_FIELDS,
            default_sort=("created_at", False),
        )
        return run_service_pb2.ListActionsResponse(
            actions=[_convert.action(a) for a in chosen], token=token
        )

    async def watch_actions(  # type: ignore[override]
        self, request: run_service_pb2.WatchActionsRequest, ctx: RequestContext
    ) -> AsyncIterator[run_service_pb2.WatchActionsResponse]:
        key = _run_key(request.run_id)
        self.engine.get_run(key)
        filters = list(request.filter)
        for f in filters:
            _listing._check_field(f.field, _ACTION_FIELDS, "filter")

        def enriched(recs: list[ActionRecord]) -> run_service_pb2.WatchActionsResponse:
            counts = _children_phase_counts(self.c.store.list_actions(key))
            out = run_service_pb2.WatchActionsResponse()
            for rec in recs:
                fields = _action_fields(rec)
                meets = all(_listing._matches(f, fields) for f in filters)
                out.enriched_actions.append(
                    run_definition_pb2.EnrichedAction(
                        action=_convert.action(rec),
                        meets_filter=meets,
                        children_phase_counts=counts.get(rec.key.name, {}),
                    )
                )
            return out

        with self.engine.hub.subscribe(("run", key)) as sub:
            yield enriched([self.engine.get_action(a.key) for a in self.c.store.list_actions(key)])
            while True:
                item = await sub.get(self.engine.closing)
                if item is None:
                    return
                keys = dict.fromkeys([item, *sub.drain()])
                yield enriched([self.engine.get_action(k) for k in keys])

    async def abort_action(
        self, request: run_service_pb2.AbortActionRequest, ctx: RequestContext
    ) -> run_service_pb2.AbortActionResponse:
        await self.engine.abort(_action_key(request.action_id), request.reason or "action aborted")
        return run_service_pb2.AbortActionResponse()

    async def signal_event(
        self, request: run_service_pb2.SignalEventRequest, ctx: RequestContext
    ) -> run_service_pb2.SignalEventResponse:
        p = request.payload
        which = p.WhichOneof("value")
        prim = literals_pb2.Primitive()
        if which == "bool_value":
            prim.boolean = p.bool_value
        elif which == "int_value":
            prim.integer = p.int_value
        elif which == "float_value":
            prim.float_value = p.float_value
        elif which == "string_value":
            prim.string_value = p.string_value
        else:
            raise InvalidArgument("payload: a value is required")
        literal = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=prim))
        self.engine.signal(_action_key(request.action_id), literal)
        return run_service_pb2.SignalEventResponse()


def _eq(field: str, value: str) -> list_pb2.Filter:
    return list_pb2.Filter(function=list_pb2.Filter.EQUAL, field=field, values=[value])


_RUN_FIELDS = (
    "name",
    "phase",
    "created_at",
    "updated_at",
    "task_name",
    "task_version",
    "trigger_name",
    "trigger_task",
    "created_by",
    "source",
    "labels.",
)


def _run_fields(r: RunRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": r.key.name,
        "phase": r.phase,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "task_name": r.task_name,
        "task_version": r.task_version,
        "trigger_name": r.trigger.name if r.trigger else None,
        "trigger_task": r.trigger.task_name if r.trigger else None,
        "created_by": _convert.SUBJECT,
        "source": r.source,
    }
    for k, v in r.labels.items():
        fields[f"labels.{k}"] = v
    return fields


# `parent_name` is the field name the reference SDK filters on; `parent` is its alias.
_ACTION_FIELDS = (
    "name",
    "phase",
    "created_at",
    "updated_at",
    "parent",
    "parent_name",
    "group",
    "task_name",
    "action_type",
)

# ActionRecord.kind -> flyteidl2.workflow.ActionType (the `action_type` filter of ListActions).
_ACTION_TYPES = {
    KIND_TASK: run_definition_pb2.ACTION_TYPE_TASK,
    KIND_TRACE: run_definition_pb2.ACTION_TYPE_TRACE,
    KIND_CONDITION: run_definition_pb2.ACTION_TYPE_CONDITION,
}


def _action_fields(a: ActionRecord) -> dict[str, Any]:
    return {
        "name": a.key.name,
        "phase": a.phase,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "parent": a.parent,
        "parent_name": a.parent,
        "group": a.group,
        "task_name": a.task_id[3],
        "action_type": int(_ACTION_TYPES.get(a.kind, 0)),
    }


def _children_phase_counts(actions: list[ActionRecord]) -> dict[str, dict[int, int]]:
    counts: dict[str, dict[int, int]] = {}
    for a in actions:
        if a.parent:
            per = counts.setdefault(a.parent, {})
            per[a.phase] = per.get(a.phase, 0) + 1
    return counts


# ------------------------------------------------------------------------- DataProxyService


class DataProxyService(dataproxy_service_connect.DataProxyService):
    def __init__(self, ctx: Context) -> None:
        self.c = ctx
        self.engine = ctx.engine

    def _expiry(self, expires_in: duration_pb2.Duration | None) -> float:
        seconds = self.c.config.url_expiry_seconds
        if expires_in is not None and (expires_in.seconds or expires_in.nanos):
            seconds = int(expires_in.ToTimedelta().total_seconds())
        return time.time() + max(1, min(seconds, 7 * 24 * 3600))

    async def create_upload_location(
        self, request: dataproxy_service_pb2.CreateUploadLocationRequest, ctx: RequestContext
    ) -> dataproxy_service_pb2.CreateUploadLocationResponse:
        c = self.c
        if request.content_length and request.content_length > c.config.max_upload_bytes:
            raise InvalidArgument(
                f"content_length: {request.content_length} bytes is more than this devbox "
                f"accepts ({c.config.max_upload_bytes})"
            )
        md5_hex = request.content_md5.hex()
        root = request.filename_root.strip("/") or md5_hex
        filename = request.filename or md5_hex
        if "/" in filename or filename in (".", ".."):
            raise InvalidArgument(f"filename: {filename!r} must be a plain file name")
        key = "/".join(["uploads", request.project, request.domain, root, filename])
        if any(part in ("", ".", "..") for part in key.split("/")):
            raise InvalidArgument(f"filename_root: {request.filename_root!r} is not a valid path")
        expires = self._expiry(request.expires_in if request.HasField("expires_in") else None)
        md5 = md5_b64(request.content_md5) if request.content_md5 else ""
        resp = dataproxy_service_pb2.CreateUploadLocationResponse(
            signed_url=c.signer.sign("put", key, expires, md5),
            native_url=c.blobs.uri_of(key),
            expires_at=_convert.ts(expires),
        )
        if md5:
            resp.headers["Content-MD5"] = md5
        return resp

    async def upload_inputs(
        self, request: dataproxy_service_pb2.UploadInputsRequest, ctx: RequestContext
    ) -> dataproxy_service_pb2.UploadInputsResponse:
        c = self.c
        if request.WhichOneof("id") == "run_id":
            project, domain = request.run_id.project, request.run_id.domain
        else:
            project, domain = request.project_id.name, request.project_id.domain
        which = request.WhichOneof("task")
        spec: task_definition_pb2.TaskSpec | None = None
        if which == "task_spec":
            spec = request.task_spec
        elif which == "task_id":
            spec = task_definition_pb2.TaskSpec.FromString(c.task(request.task_id).spec)
        elif which == "trigger_name":
            trig = c.trigger(request.trigger_name)
            found = c.store.get_task(
                TaskKey(trig.key.project, trig.key.domain, trig.key.task_name, trig.task_version)
            )
            spec = task_definition_pb2.TaskSpec.FromString(found.spec) if found else None
        c.ensure_project(project)
        directory, _ = await self.engine.offload_inputs(
            project, domain, request.inputs, base_dir=request.base_dir
        )
        return dataproxy_service_pb2.UploadInputsResponse(
            offloaded_input_data=common_run_pb2.OffloadedInputData(
                uri=directory, inputs_hash=_inputs_hash(request.inputs, c.cache_ignored(spec))
            )
        )

    async def create_download_link(
        self, request: dataproxy_service_pb2.CreateDownloadLinkRequest, ctx: RequestContext
    ) -> dataproxy_service_pb2.CreateDownloadLinkResponse:
        c = self.c
        source = request.WhichOneof("source")
        if request.artifact_type == dataproxy_service_pb2.ARTIFACT_TYPE_REPORT:
            if source != "action_attempt_id":
                raise InvalidArgument("action_attempt_id: a report needs the action attempt")
            aid = request.action_attempt_id
            key = _action_key(aid.action_id)
            rec = self.engine.get_action(key)
            n = aid.attempt or rec.attempts
            attempt = c.store.get_attempt(key, n)
            if attempt is None or not attempt.output_prefix:
                raise NotFound(f"action {key} has no attempt {n}")
            uri = c.blobs.join(attempt.output_prefix, "report.html")
        elif request.artifact_type == dataproxy_service_pb2.ARTIFACT_TYPE_CODE_BUNDLE:
            if source != "task_id":
                raise InvalidArgument("task_id: a code bundle link needs the task")
            spec = task_definition_pb2.TaskSpec.FromString(c.task(request.task_id).spec)
            uri = _code_bundle(spec)
            if not uri:
                raise NotFound(f"task {request.task_id.name!r} has no code bundle")
        else:
            raise InvalidArgument("artifact_type: must be REPORT or CODE_BUNDLE")
        if not await c.blobs.exists(uri):
            raise NotFound(f"{uri} does not exist")
        blob_key = c.blobs.key_of(uri)
        if blob_key is None:
            raise FailedPrecondition(f"{uri} is outside the devbox storage root")
        expires = self._expiry(request.expires_in if request.HasField("expires_in") else None)
        return dataproxy_service_pb2.CreateDownloadLinkResponse(
            pre_signed_urls=dataproxy_service_pb2.PreSignedURLs(
                signed_url=[c.signer.sign("get", blob_key, expires)],
                expires_at=_convert.ts(expires),
            )
        )

    async def get_action_data(
        self, request: dataproxy_service_pb2.GetActionDataRequest, ctx: RequestContext
    ) -> dataproxy_service_pb2.GetActionDataResponse:
        inputs, outputs, inputs_uri, outputs_uri = await self.engine.action_data(
            _action_key(request.action_id)
        )
        return dataproxy_service_pb2.GetActionDataResponse(
            inputs=inputs, outputs=outputs, inputs_uri=inputs_uri, outputs_uri=outputs_uri
        )

    async def tail_logs(  # type: ignore[override]
        self, request: dataproxy_service_pb2.TailLogsRequest, ctx: RequestContext
    ) -> AsyncIterator[dataproxy_service_pb2.TailLogsResponse]:
        async for lines in tail(self.c, _action_key(request.action_id), request.attempt):
            yield dataproxy_service_pb2.TailLogsResponse(
                logs=[dataproxy_service_pb2.TailLogsResponse.Logs(lines=lines)]
            )


def _code_bundle(spec: task_definition_pb2.TaskSpec) -> str:
    try:
        args = container_args(spec)[1]
    except InvalidArgument:
        return ""
    for flag in ("--tgz", "--pkl"):
        if flag in args and args.index(flag) + 1 < len(args):
            return args[args.index(flag) + 1]
    return ""


async def tail(c: Context, key: ActionKey, attempt: int) -> AsyncIterator[list[Any]]:
    """Log lines of one attempt, followed until the attempt ends."""
    engine = c.engine
    rec = engine.get_action(key)
    n = attempt or rec.attempts
    found = c.store.get_attempt(key, n) if n else None
    if found is None or not found.log_path:
        raise NotFound(f"no logs yet for attempt {n or 1} of action {key}")
    offset = 0
    while True:
        records, offset = read_log_lines(found.log_path, offset)
        if records:
            yield [_log_line(ts, text) for ts, text in records[:5000]]
            if len(records) > 5000:
                for i in range(5000, len(records), 5000):
                    yield [_log_line(ts, text) for ts, text in records[i : i + 5000]]
            continue
        current = c.store.get_attempt(key, n)
        if current is None or is_terminal(current.phase) or engine.closing.is_set():
            # One last read: the process may have written its final lines just now.
            records, offset = read_log_lines(found.log_path, offset)
            if records:
                yield [_log_line(ts, text) for ts, text in records]
            return
        await asyncio.sleep(0.25)


def _log_line(stamp: float, text: str) -> logs_pb2.LogLine:
    system = text.startswith("[devbox] ")
    return logs_pb2.LogLine(
        timestamp=_convert.ts(stamp),
        message=text,
        originator=logs_pb2.SYSTEM if system else logs_pb2.USER,
    )


class RunLogsService(run_logs_service_connect.RunLogsService):
    def __init__(self, ctx: Context) -> None:
        self.c = ctx

    async def tail_logs(  # type: ignore[override]
        self, request: run_logs_service_pb2.TailLogsRequest, ctx: RequestContext
    ) -> AsyncIterator[run_logs_service_pb2.TailLogsResponse]:
        async for lines in tail(self.c, _action_key(request.action_id), request.attempt):
            yield run_logs_service_pb2.TailLogsResponse(
                logs=[run_logs_service_pb2.TailLogsResponse.Logs(lines=lines)]
            )


# --------------------------------------------------------------------------- ClusterService


class ClusterService(cluster_connect.ClusterService):
    async def select_cluster(
        self, request: cluster_pb2.SelectClusterRequest, ctx: RequestContext
    ) -> cluster_pb2.SelectClusterResponse:
        # An empty endpoint means "this same endpoint": the devbox is its own data plane.
        return cluster_pb2.SelectClusterResponse(cluster="devbox")


# ----------------------------------------------------------------- Queue, State and Actions


def _new_action(
    action_id: identifier_pb2.ActionIdentifier,
    parent: str,
    group: str,
    input_uri: str,
    run_output_base: str,
    spec: str | None,
    msg: Any,
) -> NewAction:
    if not parent:
        raise InvalidArgument("parent_action_name: a child action needs its parent")
    return NewAction(
        key=_action_key(action_id),
        org=action_id.run.org,
        parent=parent,
        group=group,
        input_uri=input_uri,
        run_output_base=run_output_base,
        task=msg.task if spec == "task" else None,
        trace=msg.trace if spec == "trace" else None,
        condition=msg.condition if spec == "condition" else None,
    )


async def watch_children(engine: Engine, parent: ActionKey) -> AsyncIterator[Any]:
    """Existing children, then None (the sentinel), then live updates: the order the
    in-task controller relies on (PROTOCOL.md section 3.5)."""
    run_key = parent.run_key
    engine.get_run(run_key)
    with engine.hub.subscribe(("children", run_key, parent.name)) as sub:
        for rec in engine.children(run_key, parent.name):
            yield _convert.action_update(rec)
        yield None
        while True:
            item = await sub.get(engine.closing)
            if item is None:
                return
            yield item


class QueueService(queue_service_connect.QueueService):
    def __init__(self, ctx: Context) -> None:
        self.engine = ctx.engine

    async def enqueue_action(
        self, request: queue_service_pb2.EnqueueActionRequest, ctx: RequestContext
    ) -> queue_service_pb2.EnqueueActionResponse:
        self.engine.enqueue(
            _new_action(
                request.action_id,
                request.parent_action_name,
                request.group,
                request.input_uri,
                request.run_output_base,
                request.WhichOneof("spec"),
                request,
            )
        )
        return queue_service_pb2.EnqueueActionResponse()

    async def abort_queued_run(
        self, request: queue_service_pb2.AbortQueuedRunRequest, ctx: RequestContext
    ) -> queue_service_pb2.AbortQueuedRunResponse:
        key = _run_key(request.run_id)
        self.engine.get_run(key)
        await self.engine.abort(key.action(ROOT_ACTION), request.reason or "run aborted")
        return queue_service_pb2.AbortQueuedRunResponse()

    async def abort_queued_action(
        self, request: queue_service_pb2.AbortQueuedActionRequest, ctx: RequestContext
    ) -> queue_service_pb2.AbortQueuedActionResponse:
        await self.engine.abort(_action_key(request.action_id), request.reason or "aborted")
        return queue_service_pb2.AbortQueuedActionResponse()


class StateService(state_service_connect.StateService):
    def __init__(self, ctx: Context) -> None:
        self.c = ctx
        self.engine = ctx.engine

    async def put(
        self, request: state_service_pb2.PutRequest, ctx: RequestContext
    ) -> state_service_pb2.PutResponse:
        key = _action_key(request.action_id)
        self.engine.get_action(key)
        self.c.store.put_state(key, request.state)
        return state_service_pb2.PutResponse(action_id=request.action_id)

    async def get(
        self, request: state_service_pb2.GetRequest, ctx: RequestContext
    ) -> state_service_pb2.GetResponse:
        key = _action_key(request.action_id)
        state = self.c.store.get_state(key)
        if state is None:
            raise NotFound(f"no state stored for action {key}")
        return state_service_pb2.GetResponse(action_id=request.action_id, state=state)

    async def watch(  # type: ignore[override]
        self, request: state_service_pb2.WatchRequest, ctx: RequestContext
    ) -> AsyncIterator[state_service_pb2.WatchResponse]:
        sentinel = state_service_pb2.WatchResponse(
            control_message=state_service_pb2.ControlMessage(sentinel=True)
        )
        async for update in watch_children(self.engine, _action_key(request.parent_action_id)):
            yield (
                sentinel
                if update is None
                else state_service_pb2.WatchResponse(action_update=update)
            )


class ActionsService(actions_service_connect.ActionsService):
    def __init__(self, ctx: Context) -> None:
        self.engine = ctx.engine

    async def enqueue(
        self, request: actions_service_pb2.EnqueueRequest, ctx: RequestContext
    ) -> actions_service_pb2.EnqueueResponse:
        a = request.action
        self.engine.enqueue(
            _new_action(
                a.action_id,
                a.parent_action_name,
                a.group,
                a.input_uri,
                a.run_output_base,
                a.WhichOneof("spec"),
                a,
            )
        )
        return actions_service_pb2.EnqueueResponse()

    async def watch_for_updates(  # type: ignore[override]
        self, request: actions_service_pb2.WatchForUpdatesRequest, ctx: RequestContext
    ) -> AsyncIterator[actions_service_pb2.WatchForUpdatesResponse]:
        sentinel = actions_service_pb2.WatchForUpdatesResponse(
            control_message=state_service_pb2.ControlMessage(sentinel=True)
        )
        async for update in watch_children(self.engine, _action_key(request.parent_action_id)):
            yield (
                sentinel
                if update is None
                else actions_service_pb2.WatchForUpdatesResponse(action_update=update)
            )

    async def abort(
        self, request: actions_service_pb2.AbortRequest, ctx: RequestContext
    ) -> actions_service_pb2.AbortResponse:
        await self.engine.abort(_action_key(request.action_id), request.reason or "aborted")
        return actions_service_pb2.AbortResponse()

    async def signal(
        self, request: actions_service_pb2.SignalRequest, ctx: RequestContext
    ) -> actions_service_pb2.SignalResponse:
        self.engine.signal(_action_key(request.action_id), request.value)
        return actions_service_pb2.SignalResponse()


# ------------------------------------------------------------------------------ TaskService


class TaskService(task_service_connect.TaskService):
    def __init__(self, ctx: Context) -> None:
        self.c = ctx

    async def deploy_task(
        self, request: task_service_pb2.DeployTaskRequest, ctx: RequestContext
    ) -> task_service_pb2.DeployTaskResponse:
        c = self.c
        tid = request.task_id
        tmpl = request.spec.task_template.id
        if tmpl.name and tmpl.name != tid.name:
            raise InvalidArgument(
                f"spec.task_template.id.name {tmpl.name!r} differs from task_id.name {tid.name!r}"
            )
        container_args(request.spec)
        for t in request.triggers:
            check_automation(t.automation_spec)
        c.ensure_project(tid.project, tid.org)
        now = time.time()
        with c.store.transaction():
            c.store.upsert_task(
                TaskRecord(
                    key=TaskKey(tid.project, tid.domain, tid.name, tid.version),
                    org=tid.org,
                    spec=request.spec.SerializeToString(),
                    short_name=request.spec.short_name or tid.name.rsplit(".", 1)[-1],
                    env_name=request.spec.environment.name,
                    deployed_at=now,
                )
            )
            for t in request.triggers:
                spec = trigger_definition_pb2.TriggerSpec(
                    run_spec=t.spec.run_spec,
                    active=t.spec.active,
                    task_version=tid.version,
                    description=t.spec.description,
                )
                if t.spec.WhichOneof("input_wrapper") == "offloaded_input_data":
                    spec.offloaded_input_data.CopyFrom(t.spec.offloaded_input_data)
                else:
                    spec.inputs.CopyFrom(t.spec.inputs)
                deploy_trigger(
                    c,
                    TriggerKey(tid.project, tid.domain, tid.name, t.name),
                    tid.org,
                    spec,
                    t.automation_spec,
                    now,
                )
        return task_service_pb2.DeployTaskResponse()

    async def get_task_details(
        self, request: task_service_pb2.GetTaskDetailsRequest, ctx: RequestContext
    ) -> task_service_pb2.GetTaskDetailsResponse:
        rec = self.c.task(request.task_id)
        return task_service_pb2.GetTaskDetailsResponse(
            details=task_definition_pb2.TaskDetails(
                task_id=_task_id(rec),
                metadata=self._metadata(rec),
                spec=task_definition_pb2.TaskSpec.FromString(rec.spec),
            )
        )

    def _metadata(self, rec: TaskRecord) -> task_definition_pb2.TaskMetadata:
        triggers = self.c.store.list_triggers(
            project=rec.key.project, domain=rec.key.domain, task_name=rec.key.name
        )
        summary = task_definition_pb2.TaskTriggersSummary()
        if len(triggers) == 1:
            t = triggers[0]
            summary.details.CopyFrom(
                task_definition_pb2.TaskTriggersSummary.TriggerDetails(
                    name=t.key.name,
                    active=t.active,
                    automation_spec=common_pb2.TriggerAutomationSpec.FromString(t.automation),
                )
            )
        elif triggers:
            summary.stats.CopyFrom(
                task_definition_pb2.TaskTriggersSummary.TriggerStats(
                    total=len(triggers), active=sum(t.active for t in triggers)
                )
            )
        spec = task_definition_pb2.TaskSpec.FromString(rec.spec)
        return task_definition_pb2.TaskMetadata(
            deployed_by=_convert.identity(),
            short_name=rec.short_name,
            deployed_at=_convert.ts(rec.deployed_at),
            environment_name=rec.env_name,
            triggers_summary=summary,
            short_description=spec.documentation.short_description,
        )

    async def list_tasks(
        self, request: task_service_pb2.ListTasksRequest, ctx: RequestContext
    ) -> task_service_pb2.ListTasksResponse:
        project = domain = None
        if request.WhichOneof("scope_by") == "project_id":
            project, domain = request.project_id.name, request.project_id.domain
        tasks = self.c.store.list_tasks(
            project=project, domain=domain, latest_only=True, limit=-1, offset=0
        )
        total = len(tasks)
        chosen, token = _listing.page(
            tasks,
            request.request,
            _task_fields,
            filterable=_TASK_FIELDS,
            default_sort=("created_at", True),
        )
        return task_service_pb2.ListTasksResponse(
            tasks=[
                task_definition_pb2.Task(task_id=_task_id(t), metadata=self._metadata(t))
                for t in chosen
            ],
            token=token,
            metadata=task_service_pb2.ListTasksResponse.ListTasksMetadata(
                total=total, filtered_total=len(chosen)
            ),
        )

    async def list_versions(
        self, request: task_service_pb2.ListVersionsRequest, ctx: RequestContext
    ) -> task_service_pb2.ListVersionsResponse:
        tn = request.task_name
        versions = self.c.store.list_task_versions(
            tn.project, tn.domain, tn.name, limit=-1, offset=0
        )
        chosen, token = _listing.page(
            versions,
            request.request,
            _task_fields,
            filterable=_TASK_FIELDS,
            default_sort=("created_at", True),
        )
        return task_service_pb2.ListVersionsResponse(
            versions=[
                task_service_pb2.ListVersionsResponse.VersionResponse(
                    version=t.key.version,
                    deployed_at=_convert.ts(t.deployed_at),
                    deployed_by=_convert.identity(),
                )
                for t in chosen
            ],
            token=token,
        )


_TASK_FIELDS = ("name", "version", "created_at", "deployed_at", "environment_name", "short_name")


def _task_fields(t: TaskRecord) -> dict[str, Any]:
    return {
        "name": t.key.name,
        "version": t.key.version,
        "created_at": t.deployed_at,
        "deployed_at": t.deployed_at,
        "environment_name": t.env_name,
        "short_name": t.short_name,
    }


def _task_id(rec: TaskRecord) -> task_definition_pb2.TaskIdentifier:
    return task_definition_pb2.TaskIdentifier(
        org=rec.org,
        project=rec.key.project,
        domain=rec.key.domain,
        name=rec.key.name,
        version=rec.key.version,
    )


# --------------------------------------------------------------------------- TriggerService


def deploy_trigger(
    c: Context,
    key: TriggerKey,
    org: str,
    spec: trigger_definition_pb2.TriggerSpec,
    automation: common_pb2.TriggerAutomationSpec,
    now: float,
) -> TriggerRecord:
    check_automation(automation)
    existing = c.store.get_trigger(key)
    activated = now
    if existing is not None and existing.active and spec.active:
        activated = existing.activated_at or existing.deployed_at
        if existing.automation != automation.SerializeToString():
            activated = now
    rec = TriggerRecord(
        key=key,
        org=org,
        revision=(existing.revision + 1) if existing else 1,
        task_version=spec.task_version,
        spec=spec.SerializeToString(),
        automation=automation.SerializeToString(),
        active=spec.active,
        description=spec.description,
        deployed_at=existing.deployed_at if existing else now,
        updated_at=now,
        triggered_at=existing.triggered_at if existing else None,
        activated_at=activated,
    )
    with c.store.transaction():
        c.store.add_trigger_revision(rec, _TRIGGER_DEPLOY, now)
        c.triggers.reschedule(rec, after=now)
    return rec


def _trigger_name(rec: TriggerRecord) -> identifier_pb2.TriggerName:
    return identifier_pb2.TriggerName(
        org=rec.org,
        project=rec.key.project,
        domain=rec.key.domain,
        name=rec.key.name,
        task_name=rec.key.task_name,
    )


def _trigger_details(rec: TriggerRecord) -> trigger_definition_pb2.TriggerDetails:
    d = trigger_definition_pb2.TriggerDetails(
        id=identifier_pb2.TriggerIdentifier(name=_trigger_name(rec), revision=rec.revision),
        metadata=trigger_definition_pb2.TriggerMetadata(
            deployed_by=_convert.identity(), updated_by=_convert.identity()
        ),
        spec=trigger_definition_pb2.TriggerSpec.FromString(rec.spec),
        status=_trigger_status(rec),
        automation_spec=common_pb2.TriggerAutomationSpec.FromString(rec.automation),
    )
    if rec.description:
        d.description = rec.description
    d.spec.active = rec.active
    return d


def _trigger_status(rec: TriggerRecord) -> trigger_definition_pb2.TriggerStatus:
    status = trigger_definition_pb2.TriggerStatus(
        deployed_at=_convert.ts(rec.deployed_at), updated_at=_convert.ts(rec.updated_at)
    )
    if rec.triggered_at is not None:
        status.triggered_at.CopyFrom(_convert.ts(rec.triggered_at))
    return status


class TriggerService(trigger_service_connect.TriggerService):
    def __init__(self, ctx: Context) -> None:
        self.c = ctx

    async def deploy_trigger(
        self, request: trigger_service_pb2.DeployTriggerRequest, ctx: RequestContext
    ) -> trigger_service_pb2.DeployTriggerResponse:
        c = self.c
        n = request.name
        if not n.task_name:
            raise InvalidArgument("name.task_name: a trigger belongs to a task")
        c.task(
            task_definition_pb2.TaskIdentifier(
                org=n.org,
                project=n.project,
                domain=n.domain,
                name=n.task_name,
                version=request.spec.task_version,
            )
        )
        key = TriggerKey(n.project, n.domain, n.task_name, n.name)
        existing = c.store.get_trigger(key)
        if request.revision and existing is not None and existing.revision != request.revision:
            raise FailedPrecondition(
                f"trigger {n.name!r} is at revision {existing.revision}, not {request.revision}"
            )
        rec = deploy_trigger(c, key, n.org, request.spec, request.automation_spec, time.time())
        return trigger_service_pb2.DeployTriggerResponse(trigger=_trigger_details(rec))

    async def get_trigger_details(
        self, request: trigger_service_pb2.GetTriggerDetailsRequest, ctx: RequestContext
    ) -> trigger_service_pb2.GetTriggerDetailsResponse:
        return trigger_service_pb2.GetTriggerDetailsResponse(
            trigger=_trigger_details(self.c.trigger(request.name))
        )

    async def get_trigger_revision_details(
        self, request: trigger_service_pb2.GetTriggerRevisionDetailsRequest, ctx: RequestContext
    ) -> trigger_service_pb2.GetTriggerRevisionDetailsResponse:
        rec = self.c.trigger(request.id.name)
        found = self.c.store.trigger_revision(rec.key, request.id.revision)
        if found is None:
            raise NotFound(f"trigger {rec.key.name!r} has no revision {request.id.revision}")
        revision, _, created, spec, automation, active = found
        old = TriggerRecord(
            key=rec.key,
            org=rec.org,
            revision=revision,
            task_version=rec.task_version,
            spec=spec,
            automation=automation,
            active=active,
            description=rec.description,
            deployed_at=rec.deployed_at,
            updated_at=created,
        )
        return trigger_service_pb2.GetTriggerRevisionDetailsResponse(trigger=_trigger_details(old))

    async def list_triggers(
        self, request: trigger_service_pb2.ListTriggersRequest, ctx: RequestContext
    ) -> trigger_service_pb2.ListTriggersResponse:
        scope = request.WhichOneof("scope_by")
        kwargs: dict[str, Any] = {}
        if scope == "project_id":
            kwargs = {"project": request.project_id.name, "domain": request.project_id.domain}
        elif scope == "task_id":
            t = request.task_id
            kwargs = {
                "project": t.project,
                "domain": t.domain,
                "task_name": t.name,
                "task_version": t.version or None,
            }
        elif scope == "task_name":
            t2 = request.task_name
            kwargs = {"project": t2.project, "domain": t2.domain, "task_name": t2.name}
        triggers = self.c.store.list_triggers(**kwargs)
        chosen, token = _listing.page(
            triggers,
            request.request,
            _trigger_fields,
            filterable=_TRIGGER_FIELDS,
            default_sort=("created_at", True),
        )
        return trigger_service_pb2.ListTriggersResponse(
            triggers=[
                trigger_definition_pb2.Trigger(
                    id=identifier_pb2.TriggerIdentifier(name=_trigger_name(t), revision=t.revision),
                    metadata=trigger_definition_pb2.TriggerMetadata(
                        deployed_by=_convert.identity(), updated_by=_convert.identity()
                    ),
                    status=_trigger_status(t),
                    active=t.active,
                    automation_spec=common_pb2.TriggerAutomationSpec.FromString(t.automation),
                )
                for t in chosen
            ],
            token=token,
        )

    async def get_trigger_revision_history(
        self, request: trigger_service_pb2.GetTriggerRevisionHistoryRequest, ctx: RequestContext
    ) -> trigger_service_pb2.GetTriggerRevisionHistoryResponse:
        rec = self.c.trigger(request.name)
        limit = request.request.limit or 100
        offset = int(request.request.token or 0)
        rows = self.c.store.trigger_revisions(rec.key, limit=limit + 1, offset=offset)
        out = trigger_service_pb2.GetTriggerRevisionHistoryResponse(
            token=str(offset + limit) if len(rows) > limit else ""
        )
        for revision, action, created, _, _, _active in rows[:limit]:
            out.triggers.append(
                trigger_definition_pb2.TriggerRevision(
                    id=identifier_pb2.TriggerIdentifier(name=_trigger_name(rec), revision=revision),
                    metadata=trigger_definition_pb2.TriggerMetadata(
                        deployed_by=_convert.identity(), updated_by=_convert.identity()
                    ),
                    status=trigger_definition_pb2.TriggerStatus(
                        deployed_at=_convert.ts(rec.deployed_at), updated_at=_convert.ts(created)
                    ),
                    action=action,  # type: ignore[arg-type]
                    created_at=_convert.ts(created),
                )
            )
        return out

    async def update_triggers(
        self, request: trigger_service_pb2.UpdateTriggersRequest, ctx: RequestContext
    ) -> trigger_service_pb2.UpdateTriggersResponse:
        c = self.c
        recs = [c.trigger(n) for n in request.names]
        now = time.time()
        with c.store.transaction():
            for rec in recs:
                if rec.active == request.active:
                    continue
                rec.active = request.active
                rec.revision += 1
                rec.updated_at = now
                if request.active:
                    rec.activated_at = now
                spec = trigger_definition_pb2.TriggerSpec.FromString(rec.spec)
                spec.active = request.active
                rec.spec = spec.SerializeToString()
                c.store.add_trigger_revision(
                    rec, _TRIGGER_ACTIVATE if request.active else _TRIGGER_DEACTIVATE, now
                )
                c.triggers.reschedule(rec, after=now)
        return trigger_service_pb2.UpdateTriggersResponse()

    async def delete_triggers(
        self, request: trigger_service_pb2.DeleteTriggersRequest, ctx: RequestContext
    ) -> trigger_service_pb2.DeleteTriggersResponse:
        c = self.c
        recs = [c.trigger(n) for n in request.names]
        with c.store.transaction():
            for rec in recs:
                c.store.delete_trigger(rec.key)
        c.triggers.wake()
        return trigger_service_pb2.DeleteTriggersResponse()


_TRIGGER_FIELDS = ("name", "task_name", "task_version", "active", "created_at", "updated_at")


def _trigger_fields(t: TriggerRecord) -> dict[str, Any]:
    return {
        "name": t.key.name,
        "task_name": t.key.task_name,
        "task_version": t.task_version,
        "active": t.active,
        "created_at": t.deployed_at,
        "updated_at": t.updated_at,
    }


# --------------------------------------------------------------------------- ProjectService


def _project_msg(p: ProjectRecord) -> project_service_pb2.Project:
    return project_service_pb2.Project(
        id=p.name,
        name=p.display_name,
        domains=[project_service_pb2.Domain(id=d, name=d) for d in p.domains],
        description=p.description,
        labels=run_pb2.Labels(values=p.labels),
        state=p.state,  # type: ignore[arg-type]
        org=p.org,
    )


class ProjectService(project_service_connect.ProjectService):
    def __init__(self, ctx: Context) -> None:
        self.c = ctx

    def _record(self, p: project_service_pb2.Project, created: float) -> ProjectRecord:
        return ProjectRecord(
            name=p.id,
            org=p.org,
            display_name=p.name or p.id,
            description=p.description,
            labels=dict(p.labels.values),
            state=p.state,
            domains=[d.id for d in p.domains] or list(DEFAULT_DOMAINS),
            created_at=created,
        )

    async def create_project(
        self, request: project_service_pb2.CreateProjectRequest, ctx: RequestContext
    ) -> project_service_pb2.CreateProjectResponse:
        if self.c.store.get_project(request.project.id) is not None:
            raise AlreadyExists(f"project {request.project.id!r} already exists")
        self.c.store.upsert_project(self._record(request.project, time.time()))
        return project_service_pb2.CreateProjectResponse()

    async def update_project(
        self, request: project_service_pb2.UpdateProjectRequest, ctx: RequestContext
    ) -> project_service_pb2.UpdateProjectResponse:
        existing = self.c.store.get_project(request.project.id)
        if existing is None:
            raise NotFound(f"project {request.project.id!r} not found")
        self.c.store.upsert_project(self._record(request.project, existing.created_at))
        return project_service_pb2.UpdateProjectResponse()

    async def get_project(
        self, request: project_service_pb2.GetProjectRequest, ctx: RequestContext
    ) -> project_service_pb2.GetProjectResponse:
        p = self.c.store.get_project(request.id)
        if p is None:
            raise NotFound(f"project {request.id!r} not found")
        return project_service_pb2.GetProjectResponse(project=_project_msg(p))

    async def list_projects(
        self, request: project_service_pb2.ListProjectsRequest, ctx: RequestContext
    ) -> project_service_pb2.ListProjectsResponse:
        projects = self.c.store.list_projects()
        req = list_pb2.ListRequest(limit=request.limit, token=request.token)
        if request.HasField("sort_by") and request.sort_by.key:
            req.sort_by.CopyFrom(request.sort_by)
        chosen, token = _listing.page(
            projects,
            req,
            _project_fields,
            filterable=_PROJECT_FIELDS,
            default_sort=("created_at", False),
        )
        return project_service_pb2.ListProjectsResponse(
            projects=project_service_pb2.Projects(
                projects=[_project_msg(p) for p in chosen], token=token
            )
        )


_PROJECT_FIELDS = ("id", "name", "created_at", "state")


def _project_fields(p: ProjectRecord) -> dict[str, Any]:
    return {"id": p.name, "name": p.display_name, "created_at": p.created_at, "state": p.state}


# ------------------------------------------------------------------- auth and identity


class AuthMetadataService(auth_service_connect.AuthMetadataService):
    """The devbox has no OAuth server: it answers with an empty configuration."""

    def __init__(self, ctx: Context) -> None:
        self.c = ctx

    async def get_o_auth2_metadata(
        self, request: auth_service_pb2.GetOAuth2MetadataRequest, ctx: RequestContext
    ) -> auth_service_pb2.GetOAuth2MetadataResponse:
        return auth_service_pb2.GetOAuth2MetadataResponse(issuer=self.c.signer.base_url)

    async def get_public_client_config(
        self, request: auth_service_pb2.GetPublicClientConfigRequest, ctx: RequestContext
    ) -> auth_service_pb2.GetPublicClientConfigResponse:
        return auth_service_pb2.GetPublicClientConfigResponse(
            client_id="flyte-devbox",
            authorization_metadata_key="authorization",
            service_http_endpoint=self.c.signer.base_url,
        )


class IdentityService(identity_connect.IdentityService):
    async def user_info(
        self, request: identity_pb2.UserInfoRequest, ctx: RequestContext
    ) -> identity_pb2.UserInfoResponse:
        return identity_pb2.UserInfoResponse(
            subject=_convert.SUBJECT,
            name="Devbox User",
            preferred_username=_convert.SUBJECT,
            given_name="Devbox",
            family_name="User",
        )
