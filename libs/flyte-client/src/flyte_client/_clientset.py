"""`ClientSet`: one grpc.aio channel to a Flyte 2 control plane and a typed stub per service.

The stubs are the `*_pb2_grpc` ones that `flyteidl2` ships; each is created on first use, so a
process that only enqueues child actions never imports the run or task service modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import grpc.aio
    from flyteidl2.actions.actions_service_pb2_grpc import ActionsServiceStub
    from flyteidl2.app.app_service_pb2_grpc import AppServiceStub
    from flyteidl2.auth.auth_service_pb2_grpc import AuthMetadataServiceStub
    from flyteidl2.auth.identity_pb2_grpc import IdentityServiceStub
    from flyteidl2.cluster.service_pb2_grpc import ClusterServiceStub
    from flyteidl2.dataproxy.dataproxy_service_pb2_grpc import DataProxyServiceStub
    from flyteidl2.imagebuilder.service_pb2_grpc import ImageServiceStub
    from flyteidl2.project.project_service_pb2_grpc import ProjectServiceStub
    from flyteidl2.secret.secret_pb2_grpc import SecretServiceStub
    from flyteidl2.task.task_service_pb2_grpc import TaskServiceStub
    from flyteidl2.trigger.trigger_service_pb2_grpc import TriggerServiceStub
    from flyteidl2.workflow.queue_service_pb2_grpc import QueueServiceStub
    from flyteidl2.workflow.run_logs_service_pb2_grpc import RunLogsServiceStub
    from flyteidl2.workflow.run_service_pb2_grpc import RunServiceStub
    from flyteidl2.workflow.state_service_pb2_grpc import StateServiceStub

__all__ = ["ClientSet", "normalize_endpoint"]

# attribute -> (module, stub class)
_STUBS: dict[str, tuple[str, str]] = {
    "run_service": ("flyteidl2.workflow.run_service_pb2_grpc", "RunServiceStub"),
    "run_logs_service": ("flyteidl2.workflow.run_logs_service_pb2_grpc", "RunLogsServiceStub"),
    "queue_service": ("flyteidl2.workflow.queue_service_pb2_grpc", "QueueServiceStub"),
    "state_service": ("flyteidl2.workflow.state_service_pb2_grpc", "StateServiceStub"),
    "actions_service": ("flyteidl2.actions.actions_service_pb2_grpc", "ActionsServiceStub"),
    "task_service": ("flyteidl2.task.task_service_pb2_grpc", "TaskServiceStub"),
    "dataproxy_service": (
        "flyteidl2.dataproxy.dataproxy_service_pb2_grpc",
        "DataProxyServiceStub",
    ),
    "cluster_service": ("flyteidl2.cluster.service_pb2_grpc", "ClusterServiceStub"),
    "project_service": ("flyteidl2.project.project_service_pb2_grpc", "ProjectServiceStub"),
    "trigger_service": ("flyteidl2.trigger.trigger_service_pb2_grpc", "TriggerServiceStub"),
    "secret_service": ("flyteidl2.secret.secret_pb2_grpc", "SecretServiceStub"),
    "app_service": ("flyteidl2.app.app_service_pb2_grpc", "AppServiceStub"),
    "image_service": ("flyteidl2.imagebuilder.service_pb2_grpc", "ImageServiceStub"),
    "auth_metadata_service": ("flyteidl2.auth.auth_service_pb2_grpc", "AuthMetadataServiceStub"),
    "identity_service": ("flyteidl2.auth.identity_pb2_grpc", "IdentityServiceStub"),
}


def normalize_endpoint(endpoint: str) -> str:
    """Turn `dns:///host:port`, `http://host:port`, `https://host` or `host:port` into a gRPC target.

    Raises:
        ValueError: If `endpoint` is empty.
    """
    value = (endpoint or "").strip()
    if not value:
        raise ValueError("endpoint is empty: pass host:port, e.g. 'localhost:30080'")
    for prefix in ("dns:///", "http://", "https://", "grpc://", "grpcs://"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    value = value.rstrip("/")
    if ":" not in value:
        value = f"{value}:{443 if endpoint.startswith(('https://', 'grpcs://')) else 80}"
    return value


class ClientSet:
    """A grpc.aio channel to one control plane, with lazily created service stubs.

    Build one with `ClientSet.for_endpoint(...)` (or, with configuration and auth, the helpers in
    `flyte_client`); close it with `await clients.close()` or `async with`.
    """

    run_service: RunServiceStub
    run_logs_service: RunLogsServiceStub
    queue_service: QueueServiceStub
    state_service: StateServiceStub
    actions_service: ActionsServiceStub
    task_service: TaskServiceStub
    dataproxy_service: DataProxyServiceStub
    cluster_service: ClusterServiceStub
    project_service: ProjectServiceStub
    trigger_service: TriggerServiceStub
    secret_service: SecretServiceStub
    app_service: AppServiceStub
    image_service: ImageServiceStub
    auth_metadata_service: AuthMetadataServiceStub
    identity_service: IdentityServiceStub

    platform: Any = None
    """The `flyte_client.PlatformConfig` it was made from (`create_client_set`), else None."""
    authenticator: Any = None
    """The `flyte_client.Authenticator` supplying its tokens, if any."""

    def __init__(self, channel: grpc.aio.Channel, endpoint: str, *, insecure: bool) -> None:
        self.channel = channel
        self.endpoint = endpoint
        self.insecure = insecure

    @classmethod
    def for_endpoint(
        cls,
        endpoint: str,
        *,
        insecure: bool = False,
        root_certificates: bytes | None = None,
        interceptors: Sequence[Any] = (),
        options: Sequence[tuple[str, Any]] = (),
    ) -> ClientSet:
        """Open a channel to `endpoint` (no network traffic until the first call).

        Args:
            endpoint: `host:port`, `dns:///host:port` or an `http(s)://` URL.
            insecure: Plain-text HTTP/2 (a devbox on loopback) instead of TLS.
            root_certificates: PEM CA bundle for TLS; the system roots when None.
            interceptors: grpc.aio client interceptors, outermost first.
            options: Extra gRPC channel options.
        """
        import grpc.aio

        target = normalize_endpoint(endpoint)
        opts = [
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            *options,
        ]
        if insecure:
            channel = grpc.aio.insecure_channel(
                target, options=opts, interceptors=list(interceptors) or None
            )
        else:
            import grpc

            creds = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            channel = grpc.aio.secure_channel(
                target, creds, options=opts, interceptors=list(interceptors) or None
            )
        return cls(channel, target, insecure=insecure)

    def __getattr__(self, name: str) -> Any:
        spec = _STUBS.get(name)
        if spec is None:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        stub = getattr(importlib.import_module(spec[0]), spec[1])(self.channel)
        setattr(self, name, stub)
        return stub

    async def close(self, grace: float | None = None) -> None:
        """Close the channel; in-flight calls are cancelled after `grace` seconds."""
        await self.channel.close(grace)

    async def __aenter__(self) -> ClientSet:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"ClientSet(endpoint={self.endpoint!r}, insecure={self.insecure})"
