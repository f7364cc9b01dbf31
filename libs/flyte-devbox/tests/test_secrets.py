"""SecretService (Connect and gRPC) and the secrets an action's process receives."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from devbox_helpers import DOMAIN, PROJECT, TERMINAL, create_run_request, task_spec, watch_until
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.core import security_pb2
from flyteidl2.secret import definition_pb2, payload_pb2, secret_pb2_grpc
from flyteidl2.secret.secret_connect import SecretServiceClient
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox

D = definition_pb2
P = phase_pb2


@pytest.fixture
async def secrets(devbox: Devbox) -> AsyncIterator[SecretServiceClient]:
    async with SecretServiceClient(devbox.url) as client:
        yield client


def sid(
    name: str, project: str = PROJECT, domain: str = DOMAIN, org: str = ""
) -> D.SecretIdentifier:
    return D.SecretIdentifier(name=name, organization=org, project=project, domain=domain)


def create(name: str, value: str | bytes, **scope: str) -> payload_pb2.CreateSecretRequest:
    spec = (
        D.SecretSpec(string_value=value)
        if isinstance(value, str)
        else D.SecretSpec(binary_value=value)
    )
    return payload_pb2.CreateSecretRequest(id=sid(name, **scope), secret_spec=spec)


async def test_create_get_list_update_delete(secrets: SecretServiceClient) -> None:
    await secrets.create_secret(create("token", "s3cr3t"))
    got = (await secrets.get_secret(payload_pb2.GetSecretRequest(id=sid("token")))).secret
    assert got.id.name == "token" and got.id.project == PROJECT and got.id.domain == DOMAIN
    assert got.secret_metadata.type == D.SECRET_TYPE_GENERIC
    assert got.secret_metadata.created_time.seconds > 0
    assert got.secret_metadata.secret_status.overall_status == D.FULLY_PRESENT
    assert got.secret_metadata.secret_status.cluster_status[0].presence_status == D.PRESENT
    # Metadata only: the value is nowhere in the answer.
    assert b"s3cr3t" not in got.SerializeToString()

    await secrets.create_secret(create("other", b"\x00bin"))
    await secrets.create_secret(create("orgwide", "o", project="", domain=""))
    listed = await secrets.list_secrets(
        payload_pb2.ListSecretsRequest(project=PROJECT, domain=DOMAIN)
    )
    assert [s.id.name for s in listed.secrets] == ["other", "token"]
    assert listed.token == ""
    assert b"s3cr3t" not in listed.SerializeToString()
    orgwide = await secrets.list_secrets(payload_pb2.ListSecretsRequest())
    assert [s.id.name for s in orgwide.secrets] == ["orgwide"]

    await secrets.update_secret(
        payload_pb2.UpdateSecretRequest(
            id=sid("token"), secret_spec=D.SecretSpec(string_value="rotated")
        )
    )
    await secrets.delete_secret(payload_pb2.DeleteSecretRequest(id=sid("token")))
    with pytest.raises(ConnectError) as e:
        await secrets.get_secret(payload_pb2.GetSecretRequest(id=sid("token")))
    assert e.value.code == Code.NOT_FOUND and "token" in e.value.message


async def test_errors(secrets: SecretServiceClient) -> None:
    await secrets.create_secret(create("dup", "1"))
    with pytest.raises(ConnectError) as e:
        await secrets.create_secret(create("dup", "2"))
    assert e.value.code == Code.ALREADY_EXISTS and "dup" in e.value.message
    # The same name in another scope is another secret.
    await secrets.create_secret(create("dup", "3", project="", domain=""))

    for bad in (
        create("", "x"),
        create("has space", "x"),
        create("-leading", "x"),
        create("nodomainproject", "x", project="", domain=DOMAIN),
        payload_pb2.CreateSecretRequest(id=sid("novalue"), secret_spec=D.SecretSpec()),
    ):
        with pytest.raises(ConnectError) as e:
            await secrets.create_secret(bad)
        assert e.value.code == Code.INVALID_ARGUMENT, bad
    with pytest.raises(ConnectError) as e:
        await secrets.update_secret(
            payload_pb2.UpdateSecretRequest(
                id=sid("nope"), secret_spec=D.SecretSpec(string_value="v")
            )
        )
    assert e.value.code == Code.NOT_FOUND
    with pytest.raises(ConnectError) as e:
        await secrets.delete_secret(payload_pb2.DeleteSecretRequest(id=sid("nope")))
    assert e.value.code == Code.NOT_FOUND and "nope" in e.value.message
    with pytest.raises(ConnectError) as e:
        await secrets.list_secrets(payload_pb2.ListSecretsRequest(project=PROJECT, token="x"))
    assert e.value.code == Code.INVALID_ARGUMENT


async def test_list_pages(secrets: SecretServiceClient) -> None:
    for i in range(5):
        await secrets.create_secret(create(f"s{i}", str(i)))
    names: list[str] = []
    token = ""
    pages = 0
    while True:
        resp = await secrets.list_secrets(
            payload_pb2.ListSecretsRequest(project=PROJECT, domain=DOMAIN, limit=2, token=token)
        )
        names += [s.id.name for s in resp.secrets]
        pages += 1
        token = resp.token
        if not token:
            break
    assert names == [f"s{i}" for i in range(5)] and pages == 3


def test_grpc_get_and_not_found(devbox: Devbox) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{devbox.port}") as channel:
        stub = secret_pb2_grpc.SecretServiceStub(channel)
        stub.CreateSecret(create("viagrpc", "v"), timeout=10)
        got = stub.GetSecret(payload_pb2.GetSecretRequest(id=sid("viagrpc")), timeout=10)
        assert got.secret.id.name == "viagrpc"
        with pytest.raises(grpc.RpcError) as e:
            stub.GetSecret(payload_pb2.GetSecretRequest(id=sid("missing")), timeout=10)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND


def _with_secrets(
    name: str, *secrets: security_pb2.Secret, env_names: str = ""
) -> run_service_pb2.CreateRunRequest:
    spec = task_spec(mode="secrets", env={"FAKE_SECRET_ENV": env_names})
    spec.task_template.security_context.secrets.extend(secrets)
    return create_run_request(spec, name=name)


async def _finish(runs: RunServiceClient, name: str) -> tuple[int, str]:
    run = identifier_pb2.RunIdentifier(project=PROJECT, domain=DOMAIN, name=name)
    resp = await watch_until(
        runs.watch_action_details(
            run_service_pb2.WatchActionDetailsRequest(
                action_id=identifier_pb2.ActionIdentifier(run=run, name="a0")
            )
        ),
        lambda r: r.details.status.phase in TERMINAL,
    )
    return resp.details.status.phase, resp.details.error_info.message


def _shown(devbox: Devbox, run: str) -> dict:
    log = devbox.config.state_dir / "logs" / PROJECT / DOMAIN / run / "a0" / "1.log"
    for line in log.read_text().splitlines():
        if "SECRETS " in line:
            return json.loads(line.split("SECRETS ", 1)[1])
    raise AssertionError(log.read_text())


async def _gone(root: Path, name: str, timeout: float = 10.0) -> bool:
    """Whether no file called `name` is left under `root` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not any(root.rglob(name)):
                return True
        except FileNotFoundError:  # a directory vanished while it was listed: look again
            pass
        await asyncio.sleep(0.05)
    return False


async def test_action_gets_env_and_file_secrets(
    secrets: SecretServiceClient, devbox: Devbox
) -> None:
    S = security_pb2.Secret
    await secrets.create_secret(create("token", "project-value"))
    await secrets.create_secret(create("token", "org-value", project="", domain=""))
    # Created by a client that names another org (the reference SDK uses the endpoint's host):
    # one tenant per devbox, so the action still finds it.
    await secrets.create_secret(create("api-key", "org-key", project="", domain="", org="127"))
    await secrets.create_secret(create("CERT", "-----pem-----"))
    req = _with_secrets(
        "withsecrets",
        S(key="token", env_var="MY_TOKEN", mount_requirement=S.ENV_VAR),
        S(key="api-key", group="grp", mount_requirement=S.ENV_VAR),
        S(key="CERT", group="tls", mount_requirement=S.FILE),
        env_names="MY_TOKEN,_FSEC_GRP_API_KEY,FLYTE_SECRETS_ENV_PREFIX",
    )
    async with RunServiceClient(devbox.url) as runs:
        await runs.create_run(req)
        phase, message = await _finish(runs, "withsecrets")
    assert phase == P.ACTION_PHASE_SUCCEEDED, message
    shown = _shown(devbox, "withsecrets")
    # The project's secret wins over the org-wide one of the same name.
    assert shown["env"] == {
        "MY_TOKEN": "project-value",
        "_FSEC_GRP_API_KEY": "org-key",
        "FLYTE_SECRETS_ENV_PREFIX": "_FSEC_",
    }
    assert shown["files"] == {"tls/cert": "-----pem-----"}
    # The secret files go away with the attempt's work directory (removed in the background
    # once the attempt ends, so look until it is gone).
    work = devbox.config.state_dir / "work" / PROJECT / DOMAIN / "withsecrets"
    assert await _gone(work, "cert"), f"secret files left under {work}"


async def test_missing_secret_fails_the_action_with_its_name(devbox: Devbox) -> None:
    S = security_pb2.Secret
    req = _with_secrets("nosecret", S(key="absent", env_var="X", mount_requirement=S.ENV_VAR))
    async with RunServiceClient(devbox.url) as runs:
        await runs.create_run(req)
        phase, message = await _finish(runs, "nosecret")
    assert phase == P.ACTION_PHASE_FAILED
    assert "'absent'" in message and "flyte create secret" in message
