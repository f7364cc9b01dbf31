"""Pure functions: placeholders, environments, list filters, signed URLs, log records."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from devbox_helpers import task_spec
from flyteidl2.common import list_pb2
from flyteidl2.task import run_pb2

from flyte_devbox._blobs import LocalBlobStore, SignatureError, UrlSigner
from flyte_devbox._errors import InvalidArgument
from flyte_devbox._launch import build_argv, build_env, substitute
from flyte_devbox._listing import page
from flyte_devbox._process import LogWriter, read_log_lines


def test_substitute_is_flexible_like_flyte() -> None:
    values = {"input": "/in/inputs.pb", "outputprefix": "/out"}
    assert substitute("{{.input}}", values) == "/in/inputs.pb"
    assert substitute("{{ .Input }}", values) == "/in/inputs.pb"
    assert substitute("{{$outputPrefix}}/x", values) == "/out/x"
    assert substitute("{{.unknown}}", values) == "{{.unknown}}"


def test_build_argv_replaces_a0_per_image() -> None:
    spec = task_spec(image="ghcr.io/acme/special:1", args=["a0", "--x", "{{.runName}}"])
    argv = build_argv(
        spec,
        values={"runname": "r1"},
        a0_command=("/default/a0",),
        per_image={"ghcr.io/acme/*": ("/acme/python", "-m", "rt")},
    )
    assert argv == ["/acme/python", "-m", "rt", "--x", "r1"]
    other = task_spec(args=["a0", "--x"])
    assert build_argv(other, values={}, a0_command=("/default/a0",), per_image={}) == [
        "/default/a0",
        "--x",
    ]
    custom = task_spec(args=["python", "-c", "pass"])
    assert build_argv(custom, values={}, a0_command=("/default/a0",), per_image={}) == [
        "python",
        "-c",
        "pass",
    ]


def test_build_env_precedence() -> None:
    spec = task_spec(env={"A": "task", "B": "task"})
    run_spec = run_pb2.RunSpec()
    run_spec.envs.values.add(key="B", value="run")
    run_spec.envs.values.add(key="ACTION_NAME", value="not-allowed")
    env = build_env(
        base={
            "PATH": "/usr/bin",
            "FLYTE_API_KEY": "leak",
            "PYTHONPATH": "/x",
            "HOME": "/h",
            "_U_EP_OVERRIDE": "elsewhere",
            "A": "base",
        },
        devbox_env={"C": "devbox"},
        spec=spec,
        run_spec=run_spec,
        system={"ACTION_NAME": "a0"},
        defaults={"D": "default"},
        command=("/venv/bin/a0",),
    )
    assert env["A"] == "task" and env["B"] == "run" and env["C"] == "devbox"
    assert env["D"] == "default" and env["ACTION_NAME"] == "a0" and env["HOME"] == "/h"
    assert "FLYTE_API_KEY" not in env and "PYTHONPATH" not in env and "_U_EP_OVERRIDE" not in env
    assert env["PATH"].startswith("/venv/bin:")


def _pod_spec(primary: str | None = "primary") -> object:
    """A task spec whose target is a k8s pod (a task with a pod template)."""
    from google.protobuf import json_format, struct_pb2

    spec = task_spec(args=["a0", "--run", "{{.runName}}"])
    tt = spec.task_template
    container = tt.container
    pod = {
        "containers": [
            {"name": "sidecar", "image": "busybox", "args": ["sleep", "9"]},
            {
                "name": primary or "primary",
                "image": container.image,
                "args": list(container.args),
                "env": [{"name": kv.key, "value": kv.value} for kv in container.env]
                + [{"name": "FROM_POD", "value": "yes"}],
            },
        ],
        "terminationGracePeriodSeconds": 600,
    }
    tt.ClearField("container")
    json_format.ParseDict(pod, tt.k8s_pod.pod_spec)
    assert isinstance(tt.k8s_pod.pod_spec, struct_pb2.Struct)
    if primary is not None:
        tt.config["primary_container_name"] = primary
    return spec


def test_pod_task_runs_its_primary_container() -> None:
    spec = _pod_spec("main")
    argv = build_argv(
        spec,  # type: ignore[arg-type]
        values={"runname": "r1"},
        a0_command=("/default/a0",),
        per_image={},
    )
    assert argv == ["/default/a0", "--run", "r1"]
    env = build_env(
        base={},
        devbox_env={},
        spec=spec,  # type: ignore[arg-type]
        run_spec=run_pb2.RunSpec(),
        system={},
        defaults={},
        command=(),
    )
    assert env["FROM_POD"] == "yes" and env["FAKE_MODE"] == "square"


def test_pod_task_without_its_primary_container_is_refused() -> None:
    spec = _pod_spec("main")
    spec.task_template.config["primary_container_name"] = "missing"  # type: ignore[attr-defined]
    with pytest.raises(InvalidArgument, match="primary container 'missing'"):
        build_argv(spec, values={}, a0_command=("a0",), per_image={})  # type: ignore[arg-type]


def _f(field: str, fn: int, *values: str) -> list_pb2.Filter:
    return list_pb2.Filter(field=field, function=fn, values=list(values))  # type: ignore[arg-type]


def test_page_filters_sorts_and_pages() -> None:
    F = list_pb2.Filter
    items = [{"name": f"n{i}", "phase": i % 3, "created_at": float(i)} for i in range(10)]
    got, token = page(
        items,
        list_pb2.ListRequest(limit=3),
        lambda x: x,
        filterable=("name", "phase", "created_at"),
    )
    assert [i["name"] for i in got] == ["n9", "n8", "n7"] and token == "3"
    got, token = page(
        items,
        list_pb2.ListRequest(limit=3, token=token),
        lambda x: x,
        filterable=("name", "phase", "created_at"),
    )
    assert [i["name"] for i in got] == ["n6", "n5", "n4"]
    req = list_pb2.ListRequest(
        filters=[
            _f("phase", F.VALUE_IN, "1", "ACTION_PHASE_QUEUED"),
            _f("created_at", F.LESS_THAN, "1970-01-01T00:00:05Z"),
        ],
        sort_by=list_pb2.Sort(key="created_at", direction=list_pb2.Sort.ASCENDING),
    )
    got, _ = page(items, req, lambda x: x, filterable=("name", "phase", "created_at"))
    assert [i["name"] for i in got] == ["n1", "n4"]
    with pytest.raises(InvalidArgument, match="supports: name"):
        page(
            items,
            list_pb2.ListRequest(filters=[_f("color", F.EQUAL, "red")]),
            lambda x: x,
            filterable=("name",),
        )
    with pytest.raises(InvalidArgument, match="token"):
        page(items, list_pb2.ListRequest(token="abc"), lambda x: x, filterable=("name",))


def test_signed_urls(tmp_path: Path) -> None:
    signer = UrlSigner(b"k" * 32, "http://127.0.0.1:1")
    url = signer.sign("put", "uploads/p/d/x y.tgz", time.time() + 60, "bWQ1")
    path, query = url.split("?", 1)
    raw_path = path[len("http://127.0.0.1:1") :]
    assert signer.verify("PUT", raw_path, query) == ("uploads/p/d/x y.tgz", "bWQ1")
    with pytest.raises(SignatureError):
        signer.verify("GET", raw_path, query)
    with pytest.raises(SignatureError):
        signer.verify("PUT", raw_path.replace("x%20y", "z"), query)
    with pytest.raises(SignatureError):
        UrlSigner(b"other" * 8, "http://h").verify("PUT", raw_path, query)
    expired_path, expired_query = signer.sign("get", "a/b", time.time() - 1).split("?", 1)
    with pytest.raises(SignatureError, match="expired"):
        signer.verify("GET", expired_path[len("http://127.0.0.1:1") :], expired_query)


def test_local_blob_keys(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    uri = store.uri_of("a/b/c.pb")
    assert store.key_of(uri) == "a/b/c.pb"
    assert store.key_of("file://" + uri) == "a/b/c.pb"
    assert store.key_of(str(tmp_path / "elsewhere")) is None
    assert store.key_of(store.root + "/../escape") is None


def test_log_records(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    log = LogWriter(str(path))
    log.feed(b"one\ntw")
    log.feed(b"o\r\nthree")
    log.system("note")
    log.close()
    records, offset = read_log_lines(str(path))
    assert [text for _, text in records] == ["one", "two", "[devbox] note", "three"]
    assert all(ts > 0 for ts, _ in records)
    assert read_log_lines(str(path), offset) == ([], offset)
