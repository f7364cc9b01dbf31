"""`DevboxConfig`: everything that shapes a devbox, and the client configuration it hands out.

This module is imported by `import flyte_devbox`, so it uses the standard library only.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["DevboxConfig", "default_a0_command", "default_state_dir"]

#: The port `flyte create config --devbox` (reference SDK) points clients at.
DEFAULT_PORT = 30080
DEFAULT_PROJECT = "flytesnacks"
DEFAULT_DOMAIN = "development"
DEFAULT_DOMAINS = ("development", "staging", "production")
LAUNCHERS = ("spawner", "fork-server", "direct")


def default_state_dir() -> Path:
    """`$FLYTE_DEVBOX_HOME`, else `~/.flyte/devbox`."""
    env = os.environ.get("FLYTE_DEVBOX_HOME")
    return Path(env).expanduser() if env else Path.home() / ".flyte" / "devbox"


def default_a0_command() -> tuple[str, ...]:
    """The `a0` console script installed next to this interpreter (the runtime's entrypoint)."""
    return (str(Path(sys.executable).parent / "a0"),)


def _default_concurrency() -> int:
    return max(4, 2 * (os.cpu_count() or 1))


@dataclasses.dataclass(frozen=True)
class DevboxConfig:
    """How a devbox is set up.

    Attributes:
        host: Interface to bind. Only loopback is safe: there is no TLS, and without `token`
            there is no authentication either.
        port: TCP port for both Connect (HTTP/1.1) and gRPC (HTTP/2); `0` picks a free one.
        state_dir: Where the SQLite database, logs, work directories and (by default) blobs live.
        storage_uri: Where blobs (code bundles, inputs, outputs) go. `None` means
            `<state_dir>/blobs` on local disk; any flyte-storage URI (`s3://bucket/prefix`,
            `gs://...`, `abfs://...`) works too and is accessed with the process' credentials.
        max_concurrent_actions: How many actions may run their `a0` process at once. An action
            that is waiting for its own child actions gives its slot back, so nested fan-outs
            cannot deadlock.
        a0_command: The command that replaces `a0` in a task's container args, e.g.
            `("/path/to/venv/bin/a0",)` or `("python", "-m", "my_runtime")`. Default: the `a0`
            console script next to the devbox's own interpreter.
        image_a0_commands: Per-image overrides of `a0_command`: `{image glob: command}`,
            matched in order against the task's container image with `fnmatch`.
        launcher: How action processes are started. `"spawner"` (default): a small helper
            process forks and execs each one (cheaper than forking the devbox itself).
            `"fork-server"`: the spawner, plus a warm interpreter per Python `a0` command that
            forks children with the runtime's dependencies already imported (several times
            faster to start; see the README for the caveat). `"direct"`: a plain subprocess of
            the devbox.
        token: If set, every RPC must carry `authorization: Bearer <token>` (or the same value
            in `proxy-authorization`, which is what the reference client sends over plain HTTP).
        project: The project created on first start and written into the client config.
        domain: The domain written into the client config.
        env: Extra environment variables for every action.
        use_actions_service: Tell the in-task controller to use ActionsService instead of
            QueueService + StateService (`_U_USE_ACTIONS=1`).
        recover_running: On start, actions that were running when the devbox stopped get a new
            attempt (their finished children are reused); if False they fail with a system error.
        max_system_retries: Extra attempts for system failures (a crashed process, a lost
            process) on top of the task's own retry budget.
        keep_workdirs: Keep each attempt's working directory (the extracted code bundle).
        url_expiry_seconds: Default lifetime of signed upload/download URLs.
        max_upload_bytes: Largest accepted signed-URL upload.
        log_level: Logging level of the `flyte_devbox` logger when run from the command line.
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    state_dir: Path = dataclasses.field(default_factory=default_state_dir)
    storage_uri: str | None = None
    max_concurrent_actions: int = dataclasses.field(default_factory=_default_concurrency)
    a0_command: tuple[str, ...] = dataclasses.field(default_factory=default_a0_command)
    image_a0_commands: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    launcher: str = "spawner"
    token: str | None = None
    project: str = DEFAULT_PROJECT
    domain: str = DEFAULT_DOMAIN
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    use_actions_service: bool = False
    recover_running: bool = True
    max_system_retries: int = 1
    keep_workdirs: bool = False
    url_expiry_seconds: int = 3600
    max_upload_bytes: int = 5 * 1024**3
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        # Accept str/PathLike and plain sequences; store normalized, immutable values.
        object.__setattr__(self, "state_dir", Path(self.state_dir).expanduser().absolute())
        object.__setattr__(self, "a0_command", _command(self.a0_command, "a0_command"))
        object.__setattr__(
            self,
            "image_a0_commands",
            {
                k: _command(v, f"image_a0_commands[{k!r}]")
                for k, v in self.image_a0_commands.items()
            },
        )
        object.__setattr__(self, "env", dict(self.env))
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        if self.max_concurrent_actions < 1:
            raise ValueError(
                f"max_concurrent_actions must be at least 1, got {self.max_concurrent_actions}"
            )
        if self.launcher not in LAUNCHERS:
            raise ValueError(
                f"launcher must be one of {', '.join(LAUNCHERS)}, got {self.launcher!r}"
            )
        if self.max_system_retries < 0:
            raise ValueError(f"max_system_retries must be >= 0, got {self.max_system_retries}")
        if not self.project or not self.domain:
            raise ValueError("project and domain must not be empty")
        if self.token is not None and not self.token.strip():
            raise ValueError("token must not be blank")

    def replace(self, **changes: object) -> DevboxConfig:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def blob_root(self) -> str:
        """The storage root: `storage_uri`, or the local `<state_dir>/blobs`."""
        if self.storage_uri:
            return self.storage_uri.rstrip("/")
        return str(self.state_dir / "blobs")


def _command(value: str | Sequence[str], name: str) -> tuple[str, ...]:
    parts = tuple(shlex.split(value)) if isinstance(value, str) else tuple(str(v) for v in value)
    if not parts or not parts[0]:
        raise ValueError(f"{name} must name a command")
    return parts


def client_config_yaml(
    *, endpoint: str, project: str, domain: str, token: str | None = None
) -> str:
    """The YAML a reference (or our) client reads to talk to this devbox.

    The format is the reference SDK's `config.yaml` (`flyte create config`). Over plain HTTP the
    reference client sends no `authorization` header, so a token travels through its proxy
    authenticator (`admin.proxyCommand`), which the devbox accepts too.
    """
    lines = [
        "admin:",
        f"  endpoint: {endpoint}",
        "  insecure: true",
    ]
    if token is not None:
        lines += ["  proxyCommand:", "    - echo", f"    - {_yaml_str(token)}"]
    lines += [
        "image:",
        "  builder: local",
        "task:",
        f"  project: {_yaml_str(project)}",
        f"  domain: {_yaml_str(domain)}",
    ]
    return "\n".join(lines) + "\n"


def _yaml_str(value: str) -> str:
    safe = value and all(c.isalnum() or c in "-_./:" for c in value) and not value[0].isdigit()
    if safe:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
