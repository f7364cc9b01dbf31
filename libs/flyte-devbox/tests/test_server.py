"""One port, two protocols; UNIMPLEMENTED, tokens, start-up errors and the command line."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from devbox_helpers import DOMAIN, PROJECT, TERMINAL, create_run_request, task_spec, watch_until
from flyteidl2.app import app_payload_pb2
from flyteidl2.app.app_service_connect import AppServiceClient
from flyteidl2.auth import identity_pb2
from flyteidl2.auth.identity_connect import IdentityServiceClient
from flyteidl2.cluster import payload_pb2 as cluster_pb2
from flyteidl2.cluster.service_connect import ClusterServiceClient
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.project import project_service_pb2
from flyteidl2.project.project_service_connect import ProjectServiceClient
from flyteidl2.workflow import run_service_pb2, run_service_pb2_grpc
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox, DevboxConfig, DevboxStartError
from flyte_devbox.__main__ import main as devbox_main  # also: Pants ships `python -m flyte_devbox`


def test_grpc_and_connect_on_one_port(devbox: Devbox) -> None:
    """A grpcio client (HTTP/2) and a Connect client (HTTP/1.1) use the same port at once."""
    with grpc.insecure_channel(f"127.0.0.1:{devbox.port}") as channel:
        stub = run_service_pb2_grpc.RunServiceStub(channel)
        created = stub.CreateRun(create_run_request(task_spec(), x=5), timeout=10)
        aid = created.run.action.id

        async def connect_side() -> int:
            async with RunServiceClient(devbox.url) as runs:
                got = await runs.get_action_details(
                    run_service_pb2.GetActionDetailsRequest(action_id=aid)
                )
                return got.details.id.run.name == aid.run.name

        assert asyncio.run(connect_side())
        phases = [
            r.details.status.phase
            for r in stub.WatchActionDetails(
                run_service_pb2.WatchActionDetailsRequest(action_id=aid), timeout=30
            )
        ]
        assert phases[-1] == phase_pb2.ACTION_PHASE_SUCCEEDED
        data = stub.GetActionData(run_service_pb2.GetActionDataRequest(action_id=aid), timeout=10)
        assert data.outputs.literals[0].value.scalar.primitive.integer == 25

        with pytest.raises(grpc.RpcError) as e:
            stub.GetRunDetails(
                run_service_pb2.GetRunDetailsRequest(
                    run_id=identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name="nope")
                )
            )
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as e:
            stub.CreateRun(run_service_pb2.CreateRunRequest())
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "id" in (e.value.details() or "")
        # A method the devbox does not implement, on a service it does.
        with pytest.raises(grpc.RpcError) as e:
            list(
                stub.WatchClusterEvents(
                    run_service_pb2.WatchClusterEventsRequest(id=aid, attempt=1), timeout=10
                )
            )
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "RunService/WatchClusterEvents" in (e.value.details() or "")
        # A service it does not implement at all.
        from flyteidl2.app import app_service_pb2_grpc

        with pytest.raises(grpc.RpcError) as e:
            app_service_pb2_grpc.AppServiceStub(channel).Get(
                app_payload_pb2.GetRequest(), timeout=10
            )
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "flyteidl2.app.AppService" in (e.value.details() or "")


async def test_unimplemented_over_connect(devbox: Devbox) -> None:
    async with AppServiceClient(devbox.url) as apps:
        with pytest.raises(ConnectError) as e:
            await apps.get(app_payload_pb2.GetRequest())
        assert e.value.code == Code.UNIMPLEMENTED
        assert "does not implement service flyteidl2.app.AppService" in e.value.message
        with pytest.raises(ConnectError) as e:
            async for _ in apps.watch(app_payload_pb2.WatchRequest()):
                pass
        assert e.value.code == Code.UNIMPLEMENTED
    async with RunServiceClient(devbox.url) as runs:
        with pytest.raises(ConnectError) as e:
            await runs.get_action_log_context(
                run_service_pb2.GetActionLogContextRequest(
                    action_id=identifier_pb2.ActionIdentifier(
                        run=identifier_pb2.RunIdentifier(project="p", domain="d", name="r"),
                        name="a0",
                    ),
                    attempt=1,
                )
            )
        assert e.value.code == Code.UNIMPLEMENTED
        assert "flyteidl2.workflow.RunService/GetActionLogContext" in e.value.message


async def test_startup_services(devbox: Devbox) -> None:
    async with ClusterServiceClient(devbox.url) as cluster:
        resp = await cluster.select_cluster(
            cluster_pb2.SelectClusterRequest(
                operation=cluster_pb2.SelectClusterRequest.OPERATION_CREATE_UPLOAD_LOCATION,
                project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            )
        )
        assert resp.cluster_endpoint == ""  # "use the endpoint you already have"
    async with IdentityServiceClient(devbox.url) as ident:
        me = await ident.user_info(identity_pb2.UserInfoRequest())
        assert me.subject == "devbox"
    async with ProjectServiceClient(devbox.url) as projects:
        listed = await projects.list_projects(project_service_pb2.ListProjectsRequest())
        assert [p.id for p in listed.projects.projects] == [PROJECT]
        assert [d.id for d in listed.projects.projects[0].domains] == [
            "development",
            "staging",
            "production",
        ]
        await projects.create_project(
            project_service_pb2.CreateProjectRequest(
                project=project_service_pb2.Project(id="other", name="Other")
            )
        )
        got = await projects.get_project(project_service_pb2.GetProjectRequest(id="other"))
        assert got.project.name == "Other"
        with pytest.raises(ConnectError) as e:
            await projects.create_project(
                project_service_pb2.CreateProjectRequest(
                    project=project_service_pb2.Project(id="other", name="Other")
                )
            )
        assert e.value.code == Code.ALREADY_EXISTS
        with pytest.raises(ConnectError) as e:
            await projects.get_project(project_service_pb2.GetProjectRequest(id="missing"))
        assert e.value.code == Code.NOT_FOUND


async def test_token_is_required(make_devbox: Callable[..., Devbox]) -> None:
    devbox = make_devbox(token="s3cret")
    async with IdentityServiceClient(devbox.url) as ident:
        with pytest.raises(ConnectError) as e:
            await ident.user_info(identity_pb2.UserInfoRequest())
        assert e.value.code == Code.UNAUTHENTICATED
        for header in ("authorization", "proxy-authorization"):
            me = await ident.user_info(
                identity_pb2.UserInfoRequest(), headers={header: "Bearer s3cret"}
            )
            assert me.subject == "devbox"
        with pytest.raises(ConnectError) as e:
            await ident.user_info(
                identity_pb2.UserInfoRequest(), headers={"authorization": "Bearer wrong"}
            )
        assert e.value.code == Code.UNAUTHENTICATED
    assert "proxyCommand" in devbox.client_config()
    # Actions get the token too, so nested tasks can call back.
    async with RunServiceClient(devbox.url) as runs:
        created = await runs.create_run(
            create_run_request(task_spec(mode="env")), headers={"authorization": "Bearer s3cret"}
        )
        aid = created.run.action.id
        await watch_until(
            runs.watch_action_details(
                run_service_pb2.WatchActionDetailsRequest(action_id=aid),
                headers={"authorization": "Bearer s3cret"},
            ),
            lambda w: w.details.status.phase in TERMINAL,
        )
    log = Path(devbox.config.state_dir, "logs", PROJECT, DOMAIN, aid.run.name, "a0", "1.log")
    record = next(
        line.split("\t", 1)[1]
        for line in log.read_text().splitlines()
        if line.split("\t", 1)[1].startswith("{")
    )
    env = json.loads(record)["env"]
    assert json.loads(env["FLYTE_AUTH_PROXY_COMMAND"]) == ["echo", "s3cret"]


def test_health_and_stats(devbox: Devbox) -> None:
    with httpx.Client(base_url=devbox.url) as http:
        assert http.get("/healthz").text == "ok\n"
        info = http.get("/").json()
        assert info["endpoint"] == devbox.endpoint and info["project"] == PROJECT
        stats = http.get("/_stats").json()
        assert stats["active_actions"] == 0


def test_client_config(devbox: Devbox, tmp_path: Path) -> None:
    text = devbox.client_config()
    assert f"endpoint: dns:///127.0.0.1:{devbox.port}" in text
    assert "insecure: true" in text
    assert f"project: {PROJECT}" in text and f"domain: {DOMAIN}" in text
    path = devbox.write_client_config(tmp_path / "sub" / "config.yaml")
    assert path.read_text() == text


def test_port_in_use_and_state_dir_lock(devbox: Devbox, tmp_path: Path) -> None:
    with pytest.raises(DevboxStartError, match="cannot listen"):
        Devbox(DevboxConfig(port=devbox.port, state_dir=tmp_path / "other")).start()
    with pytest.raises(DevboxStartError, match="another devbox is using"):
        Devbox(devbox.config.replace(port=0)).start()


def test_config_validation() -> None:
    with pytest.raises(ValueError):
        DevboxConfig(port=70000)
    with pytest.raises(ValueError):
        DevboxConfig(max_concurrent_actions=0)
    with pytest.raises(ValueError):
        DevboxConfig(a0_command=())
    # A string is split like a shell command line.
    assert DevboxConfig(a0_command="/venv/bin/python -m rt").a0_command == (  # type: ignore[arg-type]
        "/venv/bin/python",
        "-m",
        "rt",
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_command_line(tmp_path: Path) -> None:
    """`python -m flyte_devbox` prints and writes the client config, and stops on SIGTERM."""
    port = _free_port()
    cfg = tmp_path / "flyte" / "config.yaml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flyte_devbox",
            "--port",
            str(port),
            "--state-dir",
            str(tmp_path / "state"),
            "--write-config",
            str(cfg),
            "--project",
            "proj",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines = []
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Or pass:"):
                break
        out = "".join(lines)
        assert f"endpoint: dns:///127.0.0.1:{port}" in out, out
        assert "project: proj" in out
        assert cfg.read_text().startswith("admin:")
        assert f"--endpoint dns:///127.0.0.1:{port} --insecure" in out
        with httpx.Client() as http:
            assert http.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) == 0
    with pytest.raises(SystemExit) as e:
        devbox_main(["--env", "novalue"])
    assert e.value.code == 2
