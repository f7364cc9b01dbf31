"""Secrets: `Secret.create/get/listall/delete` over `SecretService`.

A control plane without a secret store answers UNIMPLEMENTED; that surfaces as a
`flyte.errors.UnionRpcError` with code "Unimplemented" naming the call.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from flyteidl2.secret import definition_pb2, payload_pb2

from flyte_client.remote import _client
from flyte_client.remote._errors import translate
from flyte_models import syncify

__all__ = ["Secret", "SecretTypes"]

SecretTypes = Literal["regular", "image_pull"]


def _scope(cluster_pool: str | None, image_pull: bool = False) -> tuple[str, str, str]:
    org, project, domain = _client._scope()
    if cluster_pool or image_pull:
        return org, "", ""
    return org, project, domain


def _ident(name: str, cluster_pool: str | None) -> definition_pb2.SecretIdentifier:
    org, project, domain = _scope(cluster_pool)
    return definition_pb2.SecretIdentifier(
        name=name, organization=org, project=project, domain=domain
    )


@dataclass
class Secret:
    """A secret's name and metadata (never its value)."""

    pb2: definition_pb2.Secret

    @syncify
    @classmethod
    async def create(
        cls,
        name: str,
        value: str | bytes,
        type: SecretTypes = "regular",
        cluster_pool: str | None = None,
    ) -> None:
        """Store secret `name` in the configured project/domain (image-pull secrets org-wide).

        Raises:
            ValueError: For an unknown `type` or a value that is neither str nor bytes.
        """
        if type not in ("regular", "image_pull"):
            raise ValueError(f"type must be 'regular' or 'image_pull', got {type!r}")
        if not isinstance(value, str | bytes):
            raise ValueError(f"A secret value must be str or bytes, got {value.__class__.__name__}")
        kind = (
            definition_pb2.SECRET_TYPE_GENERIC
            if type == "regular"
            else definition_pb2.SECRET_TYPE_IMAGE_PULL_SECRET
        )
        spec = (
            definition_pb2.SecretSpec(type=kind, string_value=value)
            if isinstance(value, str)
            else definition_pb2.SecretSpec(type=kind, binary_value=value)
        )
        org, project, domain = _scope(cluster_pool, image_pull=type == "image_pull")
        ident = definition_pb2.SecretIdentifier(
            name=name, organization=org, project=project, domain=domain
        )
        try:
            await _client._clients().secret_service.CreateSecret(
                payload_pb2.CreateSecretRequest(id=ident, secret_spec=spec)
            )
        except Exception as exc:
            raise translate(exc, f"create secret {name!r}") from exc

    @syncify
    @classmethod
    async def get(cls, name: str, cluster_pool: str | None = None) -> Secret:
        """Fetch secret `name`'s metadata."""
        try:
            resp = await _client._clients().secret_service.GetSecret(
                payload_pb2.GetSecretRequest(id=_ident(name, cluster_pool))
            )
        except Exception as exc:
            raise translate(exc, f"get secret {name!r}") from exc
        return cls(resp.secret)

    @syncify
    @classmethod
    async def listall(
        cls, limit: int = 10, cluster_pool: str | None = None
    ) -> AsyncIterator[Secret]:
        """Yield the secrets of the configured project/domain, `limit` per page."""
        org, project, domain = _scope(cluster_pool)
        token = ""
        while True:
            try:
                resp = await _client._clients().secret_service.ListSecrets(
                    payload_pb2.ListSecretsRequest(
                        organization=org, project=project, domain=domain, limit=limit, token=token
                    )
                )
            except Exception as exc:
                raise translate(exc, "list secrets") from exc
            for s in resp.secrets:
                yield cls(s)
            token = resp.token
            if not token:
                return

    @syncify
    @classmethod
    async def delete(cls, name: str, cluster_pool: str | None = None) -> None:
        """Delete secret `name`."""
        try:
            await _client._clients().secret_service.DeleteSecret(
                payload_pb2.DeleteSecretRequest(id=_ident(name, cluster_pool))
            )
        except Exception as exc:
            raise translate(exc, f"delete secret {name!r}") from exc

    @property
    def name(self) -> str:
        return self.pb2.id.name

    @property
    def type(self) -> str:
        """ "regular" or "image_pull"."""
        t = self.pb2.secret_metadata.type
        return "image_pull" if t == definition_pb2.SECRET_TYPE_IMAGE_PULL_SECRET else "regular"

    def __repr__(self) -> str:
        return f"Secret(name={self.name!r}, type={self.type!r})"
