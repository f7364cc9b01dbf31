"""`flyte-devbox` / `python -m flyte_devbox`: run a devbox in the foreground.

Prints the client configuration to use (endpoint, insecure, project, domain) and, with
`--write-config`, writes it where the Flyte client looks for it. Stops on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from flyte_devbox._config import DEFAULT_PORT, DevboxConfig, default_state_dir

DEFAULT_CONFIG_PATH = Path(".flyte") / "config.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="flyte-devbox",
        description="Run an embedded Flyte 2 control plane on this machine (no Docker, no "
        "Kubernetes). Actions run as local `a0` processes.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default: 127.0.0.1; there is no TLS)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port for Connect and gRPC (default: {DEFAULT_PORT}; 0 = any free port)",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help=f"database, logs and blobs (default: $FLYTE_DEVBOX_HOME or " f"{default_state_dir()})",
    )
    p.add_argument(
        "--storage",
        dest="storage_uri",
        default=None,
        metavar="URI",
        help="blob storage root, e.g. s3://bucket/prefix (default: <state-dir>/blobs)",
    )
    p.add_argument(
        "--max-concurrent-actions",
        type=int,
        default=None,
        metavar="N",
        help="how many action processes may run at once",
    )
    p.add_argument(
        "--a0",
        dest="a0_command",
        default=None,
        metavar="COMMAND",
        help="command that runs an action instead of `a0`, e.g. "
        "/path/to/venv/bin/a0 (default: the a0 next to this Python)",
    )
    p.add_argument(
        "--image-a0",
        action="append",
        default=[],
        metavar="GLOB=COMMAND",
        help="per-image runtime command (repeatable), e.g. 'ghcr.io/acme/*=/venvs/acme/bin/a0'",
    )
    p.add_argument(
        "--launcher",
        choices=("spawner", "fork-server", "direct"),
        default="spawner",
        help="how action processes start: a small helper forks+execs them (spawner, default); "
        "the same plus warm Python runtimes for a Python a0 (fork-server); or plain "
        "subprocesses of the devbox (direct)",
    )
    p.add_argument(
        "--fork-server", action="store_true", help="shorthand for --launcher fork-server"
    )
    p.add_argument(
        "--token",
        default=os.environ.get("FLYTE_DEVBOX_TOKEN"),
        help="require this bearer token on every RPC (default: $FLYTE_DEVBOX_TOKEN)",
    )
    p.add_argument(
        "--project", default="flytesnacks", help="default project (default: flytesnacks)"
    )
    p.add_argument("--domain", default="development", help="default domain (default: development)")
    p.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment variable for every action (repeatable)",
    )
    p.add_argument(
        "--use-actions-service",
        action="store_true",
        help="have tasks enqueue children through ActionsService (_U_USE_ACTIONS=1)",
    )
    p.add_argument(
        "--no-recover",
        dest="recover_running",
        action="store_false",
        help="on start, fail actions that were running instead of re-running them",
    )
    p.add_argument(
        "--write-config",
        nargs="?",
        const=str(DEFAULT_CONFIG_PATH),
        default=None,
        metavar="PATH",
        help=f"write the client config (default path: "
        f"{DEFAULT_CONFIG_PATH}, which the flyte CLI reads from this directory)",
    )
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ... (default: INFO)")
    return p


def _pairs(values: Sequence[str], what: str, parser: argparse.ArgumentParser) -> dict[str, str]:
    out = {}
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key:
            parser.error(f"{what} expects KEY=VALUE, got {v!r}")
        out[key] = value
    return out


def config_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> DevboxConfig:
    kwargs: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "storage_uri": args.storage_uri,
        "launcher": "fork-server" if args.fork_server else args.launcher,
        "token": args.token or None,
        "project": args.project,
        "domain": args.domain,
        "env": _pairs(args.env, "--env", parser),
        "use_actions_service": args.use_actions_service,
        "recover_running": args.recover_running,
        "log_level": args.log_level.upper(),
    }
    if args.state_dir is not None:
        kwargs["state_dir"] = args.state_dir
    if args.max_concurrent_actions is not None:
        kwargs["max_concurrent_actions"] = args.max_concurrent_actions
    if args.a0_command:
        kwargs["a0_command"] = args.a0_command
    if args.image_a0:
        kwargs["image_a0_commands"] = _pairs(args.image_a0, "--image-a0", parser)
    try:
        return DevboxConfig(**kwargs)  # type: ignore[arg-type]
    except ValueError as e:
        parser.error(str(e))
        raise  # unreachable: parser.error exits


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    config = config_from_args(args, parser)
    logging.basicConfig(
        level=getattr(logging, config.log_level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from flyte_devbox._server import Devbox, DevboxStartError

    devbox = Devbox(config)

    def ready(dbx: Devbox) -> None:
        print(f"flyte-devbox is running on {dbx.url} (state: {config.state_dir})", flush=True)
        print("Client configuration:\n", flush=True)
        print(dbx.client_config(), flush=True)
        if args.write_config:
            path = dbx.write_client_config(args.write_config)
            print(f"Wrote the client configuration to {path}", flush=True)
        print(
            f"Or pass: --endpoint {dbx.endpoint} --insecure "
            f"--project {config.project} --domain {config.domain}",
            flush=True,
        )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, devbox.request_stop)
            except (NotImplementedError, RuntimeError):  # pragma: no cover - Windows
                pass
        await devbox.serve(on_ready=ready)

    try:
        asyncio.run(run())
    except DevboxStartError as e:
        print(f"flyte-devbox: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
