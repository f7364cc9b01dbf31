"""flyteidl2.secret.SecretService on the devbox's SQLite store, and secrets for actions.

A secret is keyed by (organization, project, domain, name), exactly as the request's
`SecretIdentifier` says; empty project and domain make an org-wide secret. Values are kept in the
database (readable only by the user running the devbox) and never returned by the service:
`GetSecret` and `ListSecrets` answer with metadata only.

When an action's task asks for secrets (`TaskTemplate.security_context.secrets`), the engine
looks each one up by key, most specific scope first (the run's project and domain, then the
project alone, then org-wide), and hands it to the process the way a Flyte cluster does:

* `ENV_VAR` mount: the environment variable `env_var` (what `flyte.Secret(as_env_var=...)` and
  the default upper-cased key produce), else `_FSEC_<GROUP>_<KEY>` upper-cased;
* `FILE` mount: the file `<secrets dir>/<group>/<key lower-cased>` (0600) in the attempt's work
  directory, announced by `FLYTE_SECRETS_DEFAULT_DIR`. A cluster mounts `/etc/flyte/secrets`;
  the devbox cannot write there, so code should read the directory from that variable.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connectrpc.request import RequestContext
from flyteidl2.common import identifier_pb2
from flyteidl2.core import security_pb2
from flyteidl2.secret import definition_pb2, payload_pb2, secret_connect
from google.protobuf import timestamp_pb2

from flyte_devbox._errors import AlreadyExists, InvalidArgument, NotFound
from flyte_devbox._records import SecretRecord
from flyte_devbox._store import Store

ENV_PREFIX = "_FSEC_"
SECRETS_DIR_ENV = "FLYTE_SECRETS_DEFAULT_DIR"
SECRETS_SUBDIR = ".flyte-secrets"  # in the attempt's work directory (removed with it)
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,251}[A-Za-z0-9_])?$")
_CLUSTER = "devbox"


class SecretMissing(Exception):
    """A task asks for a secret that no scope of its run holds."""


def _check_id(sid: definition_pb2.SecretIdentifier) -> None:
    if not sid.name:
        raise InvalidArgument("the secret id needs a name (SecretIdentifier.name)")
    if not _NAME_RE.match(sid.name):
        raise InvalidArgument(
            f"invalid secret name {sid.name!r}: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit (at most 253 characters)"
        )
    if sid.domain and not sid.project:
        raise InvalidArgument(
            f"secret {sid.name!r} has domain {sid.domain!r} but no project: scope a secret to "
            "a project and domain, a project, or neither (org-wide)"
        )


def _scope_text(sid: definition_pb2.SecretIdentifier) -> str:
    where = "/".join(p for p in (sid.project, sid.domain) if p) or "org-wide"
    return f"secret {sid.name!r} ({where})"


def _value(
    spec: definition_pb2.SecretSpec, sid: definition_pb2.SecretIdentifier
) -> tuple[bytes, bool]:
    which = spec.WhichOneof("value")
    if which == "string_value":
        return spec.string_value.encode("utf-8"), False
    if which == "binary_value":
        return spec.binary_value, True
    raise InvalidArgument(
        f"{_scope_text(sid)} has no value: set SecretSpec.string_value or binary_value"
    )


def _message(r: SecretRecord) -> definition_pb2.Secret:
    created = timestamp_pb2.Timestamp()
    created.FromNanoseconds(int(r.created_at * 1e9))
    return definition_pb2.Secret(
        id=definition_pb2.SecretIdentifier(
            name=r.name, organization=r.org, project=r.project, domain=r.domain
        ),
        secret_metadata=definition_pb2.SecretMetadata(
            created_time=created,
            type=r.secret_type,  # type: ignore[arg-type]
            secret_status=definition_pb2.SecretStatus(
                overall_status=definition_pb2.FULLY_PRESENT,
                cluster_status=[
                    definition_pb2.ClusterSecretStatus(
                        cluster=identifier_pb2.ClusterIdentifier(organization=r.org, name=_CLUSTER),
                        presence_status=definition_pb2.PRESENT,
                    )
                ],
            ),
        ),
    )


class SecretService(secret_connect.SecretService):
    def __init__(self, store: Store) -> None:
        self.store = store

    def _record(
        self, sid: definition_pb2.SecretIdentifier, spec: definition_pb2.SecretSpec
    ) -> SecretRecord:
        _check_id(sid)
        value, binary = _value(spec, sid)
        now = time.time()
        return SecretRecord(
            org=sid.organization,
            project=sid.project,
            domain=sid.domain,
            name=sid.name,
            secret_type=spec.type,
            value=value,
            is_binary=binary,
            created_at=now,
            updated_at=now,
        )

    async def create_secret(
        self, request: payload_pb2.CreateSecretRequest, ctx: RequestContext
    ) -> payload_pb2.CreateSecretResponse:
        rec = self._record(request.id, request.secret_spec)
        if not self.store.insert_secret(rec):
            raise AlreadyExists(
                f"{_scope_text(request.id)} already exists; update it (UpdateSecret) or delete "
                "it first"
            )
        return payload_pb2.CreateSecretResponse()

    async def update_secret(
        self, request: payload_pb2.UpdateSecretRequest, ctx: RequestContext
    ) -> payload_pb2.UpdateSecretResponse:
        rec = self._record(request.id, request.secret_spec)
        if not self.store.update_secret(rec):
            raise NotFound(f"{_scope_text(request.id)} not found; create it first")
        return payload_pb2.UpdateSecretResponse()

    def _get(self, sid: definition_pb2.SecretIdentifier) -> SecretRecord:
        _check_id(sid)
        rec = self.store.get_secret(sid.organization, sid.project, sid.domain, sid.name)
        if rec is None:
            raise NotFound(f"{_scope_text(sid)} not found")
        return rec

    async def get_secret(
        self, request: payload_pb2.GetSecretRequest, ctx: RequestContext
    ) -> payload_pb2.GetSecretResponse:
        return payload_pb2.GetSecretResponse(secret=_message(self._get(request.id)))

    async def delete_secret(
        self, request: payload_pb2.DeleteSecretRequest, ctx: RequestContext
    ) -> payload_pb2.DeleteSecretResponse:
        sid = request.id
        self._get(sid)
        self.store.delete_secret(sid.organization, sid.project, sid.domain, sid.name)
        return payload_pb2.DeleteSecretResponse()

    async def list_secrets(
        self, request: payload_pb2.ListSecretsRequest, ctx: RequestContext
    ) -> payload_pb2.ListSecretsResponse:
        if request.domain and not request.project:
            raise InvalidArgument("ListSecrets with a domain needs a project")
        if request.limit < 0:
            raise InvalidArgument(f"limit must not be negative, got {request.limit}")
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        offset = 0
        if request.token:
            if not request.token.isdigit():
                raise InvalidArgument(f"invalid page token {request.token!r}")
            offset = int(request.token)
        # One extra row tells whether another page follows.
        found = self.store.list_secrets(
            request.organization, request.project, request.domain, limit=limit + 1, offset=offset
        )
        token = str(offset + limit) if len(found) > limit else ""
        return payload_pb2.ListSecretsResponse(
            secrets=[_message(r) for r in found[:limit]], token=token
        )


# ----------------------------------------------------------------------- secrets for actions


@dataclass
class ActionSecrets:
    """What one attempt receives: environment variables and files (relative paths)."""

    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def write(self, directory: str) -> None:
        """Write the files under `directory` (0700), each readable by the owner only (0600)."""
        root = Path(directory)
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        for rel, data in self.files.items():
            path = root / rel
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)


def _lookup(
    store: Store, orgs: Sequence[str], project: str, domain: str, key: str
) -> SecretRecord | None:
    for p, d in ((project, domain), (project, ""), ("", "")):
        for org in dict.fromkeys(orgs):
            rec = store.get_secret(org, p, d, key)
            if rec is not None:
                return rec
        # One tenant per devbox: clients that derive different org names (the reference SDK
        # uses the endpoint's host) still share their secrets.
        rec = store.find_secret_any_org(p, d, key)
        if rec is not None:
            return rec
    return None


def action_secrets(
    store: Store,
    requested: Sequence[security_pb2.Secret],
    *,
    orgs: Sequence[str],
    project: str,
    domain: str,
    directory: str,
) -> ActionSecrets:
    """Resolve a task's requested secrets; raises SecretMissing naming each absent one.

    `orgs`: the organizations to look in first, in order (the action's, the run's, none); a
    devbox serves one tenant, so a secret of the scope under any other org is found last.
    """
    out = ActionSecrets()
    missing: list[str] = []
    files = False
    for s in requested:
        rec = _lookup(store, orgs, project, domain, s.key)
        if rec is None:
            missing.append(s.key)
            continue
        if s.mount_requirement == security_pb2.Secret.FILE:
            files = True
            rel = os.path.join(s.group, s.key.lower()) if s.group else s.key.lower()
            out.files[rel] = rec.value
            continue
        text = rec.value.decode("utf-8", errors="replace")
        if s.env_var:
            out.env[s.env_var] = text
        else:
            name = f"{s.group}_{s.key}" if s.group else s.key
            out.env[ENV_PREFIX + name.replace("-", "_").replace(".", "_").upper()] = text
    if missing:
        names = ", ".join(repr(k) for k in missing)
        raise SecretMissing(
            f"the task needs the secret(s) {names}, not found in {project}/{domain}, project "
            f"{project} or org-wide; create them with `flyte create secret NAME` "
            "(or flyte.remote.Secret.create)"
        )
    if files:
        out.env[SECRETS_DIR_ENV] = directory
    out.env.setdefault("FLYTE_SECRETS_ENV_PREFIX", ENV_PREFIX)
    return out
