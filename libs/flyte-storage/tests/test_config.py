"""Storage configuration: environment variables, the config-file section, `configure`."""

from __future__ import annotations

import datetime

import pytest

import flyte_storage
from flyte_storage import ABFS, GCS, S3, StorageConfig
from flyte_storage.errors import InvalidConfig


def test_defaults_match_the_reference() -> None:
    s3 = S3()
    assert s3.retries == 3
    assert s3.backoff == datetime.timedelta(seconds=5)
    assert s3.enable_debug is False and s3.attach_execution_metadata is True
    assert s3.endpoint is None and s3.anonymous is False


def test_reference_positional_order() -> None:
    # flyte.storage.S3(retries, backoff, enable_debug, attach_execution_metadata, endpoint, ...)
    s3 = S3(5, datetime.timedelta(seconds=1), True, False, "http://e", "k", "s", "r", "path")
    assert (s3.retries, s3.endpoint, s3.access_key_id, s3.region, s3.addressing_style) == (
        5,
        "http://e",
        "k",
        "r",
        "path",
    )
    abfs = ABFS(3, datetime.timedelta(seconds=5), False, True, "acct", "key", "t", "c", "s")
    assert (abfs.account_name, abfs.client_secret) == ("acct", "s")


def test_s3_auto_reads_reference_env_vars() -> None:
    env = {
        "FLYTE_AWS_ENDPOINT": "http://127.0.0.1:9000",
        "FLYTE_AWS_ACCESS_KEY_ID": "ak",
        "FLYTE_AWS_SECRET_ACCESS_KEY": "sk",
        "FLYTE_AWS_S3_ADDRESSING_STYLE": "virtual",
        "FLYTE_STORAGE_RETRIES": "7",
        "FLYTE_STORAGE_BACKOFF_SECONDS": "1.5",
        "FLYTE_STORAGE_DEBUG": "true",
    }
    s3 = S3.auto(env, region="eu-west-1")
    assert s3 == S3(
        7,
        datetime.timedelta(seconds=1.5),
        True,
        endpoint="http://127.0.0.1:9000",
        access_key_id="ak",
        secret_access_key="sk",
        addressing_style="virtual",
        region="eu-west-1",
    )


def test_auto_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_AWS_ENDPOINT", "http://h:1")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://g:2")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "acct")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "key")
    monkeypatch.setenv("FLYTE_IO_BATCH_SIZE", "5")
    cfg = flyte_storage.get_config()
    assert cfg.s3.endpoint == "http://h:1"
    assert cfg.gcs.endpoint == "http://g:2"
    assert (cfg.abfs.account_name, cfg.abfs.account_key) == ("acct", "key")
    assert cfg.batch_size == 5


def test_gcs_and_abfs_env() -> None:
    gcs = GCS.auto({"STORAGE_EMULATOR_HOST": "http://g", "GOOGLE_CLOUD_PROJECT": "p"})
    assert (gcs.endpoint, gcs.project) == ("http://g", "p")
    abfs = ABFS.auto(
        {
            "AZURE_STORAGE_ACCOUNT_NAME": "a",
            "AZURE_STORAGE_ACCOUNT_KEY": "k",
            "AZURE_TENANT_ID": "t",
            "AZURE_CLIENT_ID": "c",
            "AZURE_CLIENT_SECRET": "s",
            "AZURE_STORAGE_CONNECTION_STRING": "cs",
            "AZURE_STORAGE_SAS_TOKEN": "sas",
            "FLYTE_STORAGE_RETRIES": "1",
        }
    )
    assert (abfs.account_name, abfs.tenant_id, abfs.connection_string, abfs.retries) == (
        "a",
        "t",
        "cs",
        1,
    )


@pytest.mark.parametrize(
    "var,value",
    [
        ("FLYTE_STORAGE_RETRIES", "many"),
        ("FLYTE_STORAGE_RETRIES", "-1"),
        ("FLYTE_STORAGE_BACKOFF_SECONDS", "soon"),
        ("FLYTE_STORAGE_DEBUG", "maybe"),
        ("FLYTE_AWS_S3_ADDRESSING_STYLE", "sideways"),
        ("FLYTE_IO_CHUNK_SIZE", "big"),
        ("FLYTE_IO_UPLOAD_CHUNK_SIZE", "1024"),
    ],
)
def test_bad_env_values_name_the_variable(var: str, value: str) -> None:
    with pytest.raises(InvalidConfig) as info:
        StorageConfig.auto(environ={var: value})
    message = str(info.value)
    assert var in message or "addressing_style" in message


def test_from_dict_full_section() -> None:
    cfg = StorageConfig.from_dict(
        {
            "retries": 4,
            "backoffSeconds": 2,
            "batch-size": 8,
            "chunk_size": 1 << 20,
            "upload_timeout": 30,
            "s3": {
                "endpoint": "http://127.0.0.1:9000",
                "accessKeyId": "ak",
                "secret-access-key": "sk",
                "addressing_style": "path",
                "retries": 9,
            },
            "gs": {"endpoint": "http://127.0.0.1:4443", "anonymous": "true"},
            "azure": {"account_name": "a", "endpoint": "http://127.0.0.1:10000/a"},
        }
    )
    assert cfg.s3.retries == 9  # per-cloud wins over the shared value
    assert cfg.gcs.retries == 4 and cfg.abfs.retries == 4
    assert cfg.s3.backoff == datetime.timedelta(seconds=2)
    assert (cfg.s3.endpoint, cfg.s3.access_key_id, cfg.s3.secret_access_key) == (
        "http://127.0.0.1:9000",
        "ak",
        "sk",
    )
    assert cfg.gcs.anonymous is True
    assert cfg.abfs.endpoint == "http://127.0.0.1:10000/a"
    assert (cfg.batch_size, cfg.chunk_size, cfg.upload_timeout) == (8, 1 << 20, 30.0)


def test_from_dict_flytekit_connection_block() -> None:
    cfg = StorageConfig.from_dict(
        {"connection": {"endpoint": "http://m:9000", "access-key": "a", "secret-key": "s"}}
    )
    assert (cfg.s3.endpoint, cfg.s3.access_key_id, cfg.s3.secret_access_key) == (
        "http://m:9000",
        "a",
        "s",
    )


@pytest.mark.parametrize(
    "section",
    [
        {"s3": {"endpoitn": "x"}},
        {"unknown": 1},
        {"s3": "not a mapping"},
        {"retries": "x"},
        {"gcs": {"anonymous": "perhaps"}},
        {"max_concurrency": 0},
    ],
)
def test_from_dict_rejects_bad_sections(section: dict) -> None:
    with pytest.raises(InvalidConfig):
        StorageConfig.from_dict(section)


def test_from_dict_none_and_empty() -> None:
    assert StorageConfig.from_dict(None) == StorageConfig() == StorageConfig.from_dict({})


def test_env_beats_the_file() -> None:
    cfg = StorageConfig.auto(
        {"s3": {"endpoint": "http://file:1", "access_key_id": "file"}, "batch_size": 3},
        environ={"FLYTE_AWS_ENDPOINT": "http://env:2", "FLYTE_IO_BATCH_SIZE": "9"},
    )
    assert cfg.s3.endpoint == "http://env:2"
    assert cfg.s3.access_key_id == "file"
    assert cfg.batch_size == 9


def test_configure_variants() -> None:
    cfg = flyte_storage.configure(S3(endpoint="http://x:1"))
    assert cfg.s3.endpoint == "http://x:1" and flyte_storage.get_config() is cfg
    cfg2 = flyte_storage.configure(GCS(endpoint="http://g:1"))
    assert cfg2.s3.endpoint == "http://x:1" and cfg2.gcs.endpoint == "http://g:1"
    cfg3 = flyte_storage.configure({"abfs": {"account_name": "a"}})
    assert cfg3.abfs.account_name == "a" and cfg3.s3.endpoint is None
    whole = StorageConfig(batch_size=1)
    assert flyte_storage.configure(whole) is whole
    assert flyte_storage.configure(None) == StorageConfig.auto()
    with pytest.raises(InvalidConfig):
        flyte_storage.configure(42)  # type: ignore[arg-type]


def test_secrets_are_not_in_repr() -> None:
    text = repr(
        StorageConfig(
            s3=S3(access_key_id="AKID", secret_access_key="SECRET", session_token="TOKEN"),
            abfs=ABFS(account_key="ACCOUNTKEY", client_secret="CS", connection_string="CONN"),
            gcs=GCS(token="/path/creds.json"),
        )
    )
    for secret in ("SECRET", "TOKEN", "ACCOUNTKEY", "CONN", "creds.json"):
        assert secret not in text
    assert "AKID" in text  # ids are fine and help debugging


def test_s3_fsspec_kwargs() -> None:
    kw = S3(
        retries=2,
        endpoint="http://e",
        access_key_id="a",
        secret_access_key="s",
        region="us-west-2",
        addressing_style="path",
        connect_timeout=3,
        read_timeout=4,
    ).get_fsspec_kwargs()
    assert kw["endpoint_url"] == "http://e" and kw["key"] == "a" and kw["secret"] == "s"
    assert kw["client_kwargs"] == {"region_name": "us-west-2"}
    assert kw["config_kwargs"] == {
        "retries": {"max_attempts": 3, "mode": "standard"},
        "connect_timeout": 3.0,
        "read_timeout": 4.0,
        "s3": {"addressing_style": "path"},
    }
    assert S3().get_fsspec_kwargs(anonymous=True)["anon"] is True
    assert S3().get_fsspec_kwargs(endpoint_url="http://o")["endpoint_url"] == "http://o"


def test_sandbox_and_emulator_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_STORAGE_RETRIES", "1")
    sb = S3.for_sandbox()
    assert (sb.endpoint, sb.access_key_id, sb.secret_access_key, sb.addressing_style) == (
        "http://localhost:4566",
        "minio",
        "miniostorage",
        "path",
    )
    assert sb.retries == 1
    assert S3.for_sandbox("http://127.0.0.1:9").endpoint == "http://127.0.0.1:9"
    g = GCS.for_emulator("http://127.0.0.1:4443")
    assert g.get_fsspec_kwargs() == {"endpoint_url": "http://127.0.0.1:4443", "token": "anon"}
    az = ABFS.for_azurite("http://127.0.0.1:10000/devstoreaccount1")
    conn = az.get_fsspec_kwargs()["connection_string"]
    assert "DefaultEndpointsProtocol=http" in conn
    assert "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1" in conn
    assert "AccountName=devstoreaccount1" in conn


def test_gcs_endpoint_without_token_is_anonymous() -> None:
    assert GCS(endpoint="http://e").get_fsspec_kwargs()["token"] == "anon"
    assert GCS(endpoint="http://e", token="/c.json").get_fsspec_kwargs()["token"] == "/c.json"
    assert "token" not in GCS().get_fsspec_kwargs()


def test_abfs_kwargs_without_endpoint() -> None:
    kw = ABFS(account_name="a", account_key="k").get_fsspec_kwargs()
    assert kw == {"account_name": "a", "account_key": "k", "anon": False}
    anon = ABFS(account_name="a", account_key="k").get_fsspec_kwargs(anonymous=True)
    assert anon["anon"] is True and "account_key" not in anon


def test_for_protocol() -> None:
    cfg = StorageConfig()
    assert cfg.for_protocol("s3") is cfg.s3
    assert cfg.for_protocol("gs") is cfg.gcs
    assert cfg.for_protocol("abfss") is cfg.abfs
    assert cfg.for_protocol("file") is None


def test_upload_chunk_floor_is_the_s3_minimum() -> None:
    with pytest.raises(InvalidConfig):
        StorageConfig(upload_chunk_size=1024)
    assert StorageConfig(upload_chunk_size=5 * 2**20).upload_chunk_size == 5 * 2**20


def test_configs_are_frozen_and_hashable() -> None:
    s3 = S3(endpoint="http://e")
    with pytest.raises(AttributeError):
        s3.endpoint = "x"  # type: ignore[misc]
    assert hash(StorageConfig(s3=s3)) == hash(StorageConfig(s3=S3(endpoint="http://e")))
    assert s3.replace(region="r").region == "r"
