"""DataProxyService: signed uploads (Content-MD5 checked), inputs, download links; validation."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from devbox_helpers import (
    DOMAIN,
    PROJECT,
    TERMINAL,
    create_run_request,
    inputs,
    task_spec,
    watch_until,
)
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.dataproxy import dataproxy_service_pb2 as dp_pb2
from flyteidl2.dataproxy.dataproxy_service_connect import DataProxyServiceClient
from flyteidl2.task import common_pb2
from flyteidl2.workflow import run_service_pb2
from flyteidl2.workflow.run_service_connect import RunServiceClient

from flyte_devbox import Devbox


@pytest.fixture
async def dp(devbox: Devbox) -> AsyncIterator[DataProxyServiceClient]:
    async with DataProxyServiceClient(devbox.url) as client:
        yield client


def upload_request(
    data: bytes, filename: str = "fastabc.tar.gz"
) -> dp_pb2.CreateUploadLocationRequest:
    return dp_pb2.CreateUploadLocationRequest(
        project=PROJECT,
        domain=DOMAIN,
        filename=filename,
        content_md5=hashlib.md5(data).digest(),
        add_content_md5_metadata=True,
    )


async def test_signed_upload_roundtrip(dp: DataProxyServiceClient) -> None:
    data = b"bundle bytes" * 1000
    loc = await dp.create_upload_location(upload_request(data))
    assert loc.signed_url.startswith("http://127.0.0.1:")
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert loc.headers["Content-MD5"] == md5
    async with httpx.AsyncClient() as http:
        put = await http.put(loc.signed_url, content=data, headers={"Content-MD5": md5})
    assert put.status_code == 200, put.text
    # native_url is what becomes --tgz: a local path the runtime can read.
    assert Path(loc.native_url).read_bytes() == data
    assert loc.native_url.endswith(
        f"/uploads/{PROJECT}/{DOMAIN}/{hashlib.md5(data).hexdigest()}" "/fastabc.tar.gz"
    )


async def test_upload_with_wrong_md5_is_refused(dp: DataProxyServiceClient) -> None:
    data = b"the real bundle"
    loc = await dp.create_upload_location(upload_request(data))
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    async with httpx.AsyncClient() as http:
        # Content that does not match the MD5 the location was created for.
        bad_body = await http.put(
            loc.signed_url, content=b"something else", headers={"Content-MD5": md5}
        )
        assert bad_body.status_code == 400 and "BadDigest" in bad_body.text
        # A Content-MD5 header other than the signed one.
        other = base64.b64encode(hashlib.md5(b"x").digest()).decode()
        bad_header = await http.put(loc.signed_url, content=b"x", headers={"Content-MD5": other})
        assert bad_header.status_code == 400
        # A tampered signature.
        tampered = loc.signed_url.replace("sig=", "sig=0")
        assert (
            await http.put(tampered, content=data, headers={"Content-MD5": md5})
        ).status_code == 403
        # A GET with a PUT signature.
        assert (await http.get(loc.signed_url)).status_code == 403
    assert not Path(loc.native_url).exists()


async def test_expired_upload_url(dp: DataProxyServiceClient) -> None:
    from google.protobuf import duration_pb2

    data = b"late"
    req = upload_request(data)
    req.expires_in.CopyFrom(duration_pb2.Duration(seconds=1))
    loc = await dp.create_upload_location(req)
    await asyncio.sleep(2.1)
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    async with httpx.AsyncClient() as http:
        resp = await http.put(loc.signed_url, content=data, headers={"Content-MD5": md5})
    assert resp.status_code == 403 and "expired" in resp.text


async def test_create_upload_location_validation(dp: DataProxyServiceClient) -> None:
    with pytest.raises(ConnectError) as e:
        await dp.create_upload_location(
            dp_pb2.CreateUploadLocationRequest(
                project=PROJECT, domain=DOMAIN, filename="f", content_md5=b"short"
            )
        )
    assert e.value.code == Code.INVALID_ARGUMENT
    assert "content_md5" in e.value.message
    with pytest.raises(ConnectError) as e:
        await dp.create_upload_location(upload_request(b"x", filename="../escape"))
    assert e.value.code == Code.INVALID_ARGUMENT


async def test_upload_inputs_and_run_from_them(dp: DataProxyServiceClient, devbox: Devbox) -> None:
    resp = await dp.upload_inputs(
        dp_pb2.UploadInputsRequest(
            project_id=identifier_pb2.ProjectIdentifier(name=PROJECT, domain=DOMAIN),
            task_spec=task_spec(),
            inputs=inputs(6),
        )
    )
    uri = resp.offloaded_input_data.uri
    assert resp.offloaded_input_data.inputs_hash
    # The URI is the directory; inputs.pb is inside (PROTOCOL.md section 3.1).
    assert common_pb2.Inputs.FromString((Path(uri) / "inputs.pb").read_bytes()) == inputs(6)
    req = create_run_request(task_spec(), x=None)
    req.offloaded_input_data.CopyFrom(resp.offloaded_input_data)
    async with RunServiceClient(devbox.url) as runs:
        created = await runs.create_run(req)
        aid = created.run.action.id
        await watch_until(
            runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
            lambda w: w.details.status.phase in TERMINAL,
        )
        data = await dp.get_action_data(dp_pb2.GetActionDataRequest(action_id=aid))
    assert data.outputs.literals[0].value.scalar.primitive.integer == 36


async def test_report_download_link(dp: DataProxyServiceClient, devbox: Devbox) -> None:
    async with RunServiceClient(devbox.url) as runs:
        created = await runs.create_run(create_run_request(task_spec(mode="report")))
        aid = created.run.action.id
        w = await watch_until(
            runs.watch_action_details(run_service_pb2.WatchActionDetailsRequest(action_id=aid)),
            lambda w: w.details.status.phase in TERMINAL,
        )
        assert w.details.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
    link = await dp.create_download_link(
        dp_pb2.CreateDownloadLinkRequest(
            artifact_type=dp_pb2.ARTIFACT_TYPE_REPORT,
            action_attempt_id=identifier_pb2.ActionAttemptIdentifier(action_id=aid, attempt=1),
        )
    )
    async with httpx.AsyncClient() as http:
        got = await http.get(link.pre_signed_urls.signed_url[0])
        assert got.status_code == 200 and got.text == "<html>report</html>"
        assert got.headers["content-type"].startswith("text/html")
        # A signed GET cannot be turned into a PUT.
        put = await http.put(link.pre_signed_urls.signed_url[0], content=b"x")
        assert put.status_code == 403
    with pytest.raises(ConnectError) as e:
        await dp.create_download_link(
            dp_pb2.CreateDownloadLinkRequest(
                artifact_type=dp_pb2.ARTIFACT_TYPE_REPORT,
                action_attempt_id=identifier_pb2.ActionAttemptIdentifier(action_id=aid, attempt=5),
            )
        )
    assert e.value.code == Code.NOT_FOUND


async def test_create_run_validation_names_the_field(devbox: Devbox) -> None:
    async with RunServiceClient(devbox.url) as runs:
        with pytest.raises(ConnectError) as e:
            await runs.create_run(run_service_pb2.CreateRunRequest())
        assert e.value.code == Code.INVALID_ARGUMENT
        assert "invalid CreateRunRequest" in e.value.message
        assert "id:" in e.value.message and "task:" in e.value.message
        # A violation nested in a message names the path.
        req = create_run_request(task_spec())
        req.project_id.name = ""
        with pytest.raises(ConnectError) as e:
            await runs.create_run(req)
        assert e.value.code == Code.INVALID_ARGUMENT
        assert "project_id.name" in e.value.message
        # The buf.validate.Violations travel as an error detail, as from the Go backend.
        assert e.value.details and "buf.validate.Violations" in e.value.details[0].type_url
        with pytest.raises(ConnectError) as e:
            await runs.get_run_details(run_service_pb2.GetRunDetailsRequest())
        assert e.value.code == Code.INVALID_ARGUMENT and "run_id" in e.value.message


async def test_unsupported_task_type_is_rejected(devbox: Devbox) -> None:
    spec = task_spec()
    spec.task_template.ClearField("container")
    spec.task_template.sql.statement = "select 1"
    async with RunServiceClient(devbox.url) as runs:
        with pytest.raises(ConnectError) as e:
            await runs.create_run(create_run_request(spec))
    assert e.value.code == Code.INVALID_ARGUMENT
    assert "container" in e.value.message
