"""Secrets a task (or an image build) needs, injected as environment variables or files."""

from __future__ import annotations

import hashlib
import pathlib
import re
from dataclasses import dataclass
from typing import Union

__all__ = ["Secret", "SecretRequest", "secrets_from_request"]

_ENV_VAR_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SECRET_MOUNT_PATH = "/etc/flyte/secrets"


@dataclass(frozen=True)
class Secret:
    """A secret from the secret store, made available to a task.

    Without `mount` or `as_env_var`, the secret is exposed as the environment variable named
    after the key (and group), upper-cased with `-` replaced by `_`: `Secret("my-key")` becomes
    `MY_KEY`, `Secret("k", group="g")` becomes `G_K`.

    Args:
        key: The secret's name in the store.
        group: The secret's group, for stores that have groups.
        mount: Mount the secret as a file under this directory (only `/etc/flyte/secrets`).
        as_env_var: The environment variable to expose the secret as.
    """

    key: str
    group: str | None = None
    mount: pathlib.Path | None = None
    as_env_var: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"Secret.key must be a non-empty str, got {self.key!r}")
        if self.group is not None and not isinstance(self.group, str):
            raise TypeError(f"Secret.group must be a str or None, got {self.group!r}")
        if self.mount is not None:
            if not isinstance(self.mount, str | pathlib.Path):
                raise TypeError(f"Secret.mount must be a path or None, got {self.mount!r}")
            if str(self.mount) != SECRET_MOUNT_PATH:
                raise ValueError(
                    f"Secret.mount must be {SECRET_MOUNT_PATH!r} (the only supported mount path), "
                    f"got {str(self.mount)!r}"
                )
            object.__setattr__(self, "mount", pathlib.Path(self.mount))
        if not self.mount and not self.as_env_var:
            name = f"{self.group}_{self.key}" if self.group else self.key
            object.__setattr__(self, "as_env_var", name.replace("-", "_").upper())
        if self.as_env_var is not None and not _ENV_VAR_RE.match(self.as_env_var):
            raise ValueError(
                f"Secret.as_env_var must match {_ENV_VAR_RE.pattern}, got {self.as_env_var!r}"
            )

    def stable_hash(self) -> str:
        """Return a process-independent SHA-256 hex digest of the secret's fields."""
        data = "|".join(
            (
                self.key,
                self.group or "",
                str(self.mount) if self.mount else "",
                self.as_env_var or "",
            )
        )
        return hashlib.sha256(data.encode("utf-8")).hexdigest()


SecretRequest = Union[str, Secret, list[Union[str, Secret]]]
"""What `secrets=` accepts: a key, a `Secret`, or a list of either."""


def secrets_from_request(secrets: SecretRequest | tuple[str | Secret, ...] | None) -> list[Secret]:
    """Normalise a `secrets=` argument into a list of `Secret`.

    Args:
        secrets: A key, a `Secret`, a list or tuple of either, or `None`.

    Returns:
        The secrets (empty for `None`).

    Raises:
        TypeError: For any other value.
    """
    if secrets is None:
        return []
    if isinstance(secrets, str):
        return [Secret(key=secrets)]
    if isinstance(secrets, Secret):
        return [secrets]
    if isinstance(secrets, list | tuple):
        out: list[Secret] = []
        for item in secrets:
            if isinstance(item, str):
                out.append(Secret(key=item))
            elif isinstance(item, Secret):
                out.append(item)
            else:
                raise TypeError(f"secrets entries must be str or Secret, got {item!r}")
        return out
    raise TypeError(f"secrets must be a str, a Secret or a list of them, got {secrets!r}")
