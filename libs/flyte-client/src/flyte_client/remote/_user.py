"""`User.get()`: who the control plane says the caller is (`IdentityService.UserInfo`)."""

from __future__ import annotations

from dataclasses import dataclass

from flyteidl2.auth import identity_pb2

from flyte_client.remote import _client
from flyte_client.remote._errors import translate
from flyte_models import syncify

__all__ = ["User"]


@dataclass
class User:
    """The authenticated user (or application)."""

    pb2: identity_pb2.UserInfoResponse

    @syncify
    @classmethod
    async def get(cls) -> User:
        """Ask the control plane who is calling."""
        try:
            resp = await _client._clients().identity_service.UserInfo(
                identity_pb2.UserInfoRequest()
            )
        except Exception as exc:
            raise translate(exc, "get the current user") from exc
        return cls(resp)

    def subject(self) -> str:
        """The identity provider's subject id."""
        return self.pb2.subject

    def name(self) -> str:
        """The display name (or the subject when there is none)."""
        return self.pb2.name or self.pb2.preferred_username or self.pb2.subject

    def __repr__(self) -> str:
        return f"User(subject={self.subject()!r}, name={self.name()!r})"
