"""Config loading: YAML keys, the seven-place lookup order, FLYTE_* overrides, typed errors."""

from __future__ import annotations

import base64
import os
import pathlib

import pytest

from flyte_client import Config, ConfigError, PlatformConfig, auto, resolve_config_path
from flyte_client._auth import decode_api_key, platform_from_api_key

FULL = """\
admin:
  endpoint: dns:///flyte.example.com:443
  insecure: false
  insecureSkipVerify: true
  caCertFilePath: /etc/ca.pem
  authType: DeviceFlow
  clientId: my-client
  scopes: [offline, all]
  httpProxyURL: http://proxy:3128
  disableKeyring: true
  rpcRetries: 5
  command: ["get-token", "--quiet"]
console:
  endpoint: https://console.example.com
task:
  org: acme
  project: flytesnacks
  domain: development
image:
  builder: remote
  registry: ghcr.io/acme
  image_refs:
    gpu: ghcr.io/acme/gpu:1
local:
  persistence: true
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> pathlib.Path:
    """No FLYTE_* / *_CONFIG variables leak in; HOME and cwd are empty temp dirs."""
    for name in list(os.environ):
        if name.startswith("FLYTE_") or name in {"UCTL_CONFIG", "FLYTECTL_CONFIG"}:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return tmp_path


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_key_is_read(tmp_path: pathlib.Path) -> None:
    cfg = auto(write(tmp_path / "c.yaml", FULL))
    p = cfg.platform
    assert p.endpoint == "dns:///flyte.example.com:443"
    assert p.insecure is False and p.insecure_skip_verify is True
    assert p.ca_cert_file_path == "/etc/ca.pem"
    assert p.auth_mode == "DeviceFlow" and p.auth_type == "DeviceFlow"
    assert p.client_id == "my-client"
    assert p.scopes == ["offline", "all"]
    assert p.http_proxy_url == "http://proxy:3128"
    assert p.disable_keyring is True and p.rpc_retries == 5
    assert p.command == ["get-token", "--quiet"]
    assert p.console_endpoint == "https://console.example.com"
    assert (cfg.task.org, cfg.task.project, cfg.task.domain) == (
        "acme",
        "flytesnacks",
        "development",
    )
    assert cfg.image.builder == "remote" and cfg.image.registry == "ghcr.io/acme"
    assert cfg.image.image_refs == {"gpu": "ghcr.io/acme/gpu:1"}
    assert cfg.local.persistence is True
    assert cfg.source == tmp_path / "c.yaml"


def test_env_overrides_file_and_is_typed(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "c.yaml", FULL)
    monkeypatch.setenv("FLYTE_ADMIN_ENDPOINT", "dns:///other:30080")
    monkeypatch.setenv("FLYTE_ADMIN_INSECURE", "True")
    monkeypatch.setenv("FLYTE_ADMIN_INSECURESKIPVERIFY", "false")
    monkeypatch.setenv("FLYTE_ADMIN_RPCRETRIES", "0")
    monkeypatch.setenv("FLYTE_TASK_PROJECT", "p2")
    monkeypatch.setenv("FLYTE_IMAGE_IMAGE_REFS", '{"cpu": "r/cpu:2"}')
    monkeypatch.setenv("FLYTE_AUTH_TYPE", "client_credentials")  # alias beats FLYTE_ADMIN_AUTHTYPE
    monkeypatch.setenv("FLYTE_ADMIN_AUTHTYPE", "Pkce")
    monkeypatch.setenv("FLYTE_AUTH_COMMAND", "my-token --fresh")
    monkeypatch.setenv("FLYTE_ADMIN_SCOPES", "offline,all,extra")
    cfg = auto(path)
    assert cfg.platform.endpoint == "dns:///other:30080"
    assert cfg.platform.insecure is True
    assert cfg.platform.insecure_skip_verify is False  # "false" is False, not a truthy string
    assert cfg.platform.rpc_retries == 0
    assert cfg.task.project == "p2" and cfg.task.domain == "development"
    assert cfg.image.image_refs == {"cpu": "r/cpu:2"}
    assert cfg.platform.auth_mode == "ClientSecret"
    assert cfg.platform.command == ["my-token", "--fresh"]
    assert cfg.platform.scopes == ["offline", "all", "extra"]


def test_env_alone_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_ADMIN_ENDPOINT", "localhost:30080")
    cfg = Config.auto()
    assert cfg.source is None
    assert cfg.platform.endpoint == "localhost:30080"


def test_lookup_order_seven_places(
    clean_env: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = clean_env
    work, home = tmp / "work", tmp / "home"
    # git root above cwd: work/repo is the root, cwd is work/repo/sub
    repo = work / "repo"
    (repo / ".git").mkdir(parents=True)
    cwd = repo / "sub"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    places = [
        cwd / "config.yaml",
        cwd / ".flyte" / "config.yaml",
        repo / ".flyte" / "config.yaml",
        tmp / "uctl.yaml",
        tmp / "flytectl.yaml",
        home / ".union" / "config.yaml",
        home / ".flyte" / "config.yaml",
    ]
    for i, place in enumerate(places):
        write(place, f"task:\n  project: p{i}\n")
    monkeypatch.setenv("UCTL_CONFIG", str(places[3]))
    monkeypatch.setenv("FLYTECTL_CONFIG", str(places[4]))
    seen = []
    for i, place in enumerate(places):
        found = resolve_config_path()
        assert found is not None
        assert found.resolve() == place.resolve(), f"step {i}"
        seen.append(auto().task.project)
        if i == 3:
            monkeypatch.delenv("UCTL_CONFIG")
        elif i == 4:
            monkeypatch.delenv("FLYTECTL_CONFIG")
        else:
            place.unlink()
    assert seen == [f"p{i}" for i in range(7)]
    assert resolve_config_path() is None


def test_malformed_yaml_names_file_and_line(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path / "bad.yaml", "admin:\n  endpoint: [unclosed\n  insecure: true\n")
    with pytest.raises(ConfigError) as info:
        auto(path)
    assert str(path) in str(info.value) and "line" in str(info.value)
    assert info.value.path == str(path)


def test_wrong_type_names_file_key_and_fix(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path / "c.yaml", "admin:\n  endpoint: x:1\n  insecure: maybe\n")
    with pytest.raises(ConfigError) as info:
        auto(path)
    msg = str(info.value)
    assert str(path) in msg and "admin.insecure" in msg and "true or false" in msg
    assert info.value.key == "admin.insecure"


def test_wrong_type_from_env_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLYTE_ADMIN_RPCRETRIES", "lots")
    with pytest.raises(ConfigError, match="FLYTE_ADMIN_RPCRETRIES"):
        auto()


def test_section_must_be_mapping(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="section 'admin' must be a mapping"):
        auto(write(tmp_path / "c.yaml", "admin: localhost:30080\n"))
    with pytest.raises(ConfigError, match="must be a mapping of sections"):
        auto(write(tmp_path / "d.yaml", "- a\n- b\n"))


def test_missing_explicit_file_and_env_path(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        auto(tmp_path / "nope.yaml")
    monkeypatch.setenv("FLYTECTL_CONFIG", str(tmp_path / "gone.yaml"))
    with pytest.raises(ConfigError, match="FLYTECTL_CONFIG"):
        auto()


def test_unknown_auth_type_is_rejected(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="unknown auth type 'Kerberos'"):
        auto(write(tmp_path / "c.yaml", "admin:\n  authType: Kerberos\n"))


def test_client_secret_location_and_env_var(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = write(tmp_path / "secret", "s3cr3t\n")
    path = write(
        tmp_path / "c.yaml",
        f"admin:\n  endpoint: h:1\n  clientId: cid\n  clientSecretLocation: {secret}\n",
    )
    p = auto(path).platform
    assert p.client_credentials_secret == "s3cr3t"  # newline stripped
    assert p.auth_mode == "ClientSecret"
    assert "s3cr3t" not in repr(p) and "client_credentials_secret='***'" in repr(p)

    monkeypatch.setenv("MY_SECRET", "from-env")
    path2 = write(tmp_path / "d.yaml", "admin:\n  clientSecretEnvVar: MY_SECRET\n")
    assert auto(path2).platform.client_credentials_secret == "from-env"


def test_api_key_decodes_like_the_reference() -> None:
    def enc(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    assert decode_api_key(enc("acme.example.com:cid:sec:org")) == (
        "acme.example.com",
        "cid",
        "sec",
        "org",
    )
    assert decode_api_key(enc("acme.example.com:cid:sec:"))[3] == "None"
    assert decode_api_key(enc("dns:///h:8443:cid:sec:o")) == ("dns:///h:8443", "cid", "sec", "o")
    with pytest.raises(ConfigError, match="expected 4"):
        decode_api_key(enc("only:two"))
    p = platform_from_api_key(enc("acme.example.com:cid:TOPSECRET:org"))
    assert (p.endpoint, p.client_id, p.auth_mode) == ("acme.example.com", "cid", "ClientSecret")
    assert p.client_credentials_secret == "TOPSECRET"
    assert "TOPSECRET" not in repr(p) and "api_key='***'" in repr(p)


def test_platform_config_helpers() -> None:
    p = PlatformConfig.for_endpoint("localhost:30080", insecure=True)
    assert p.replace(rpc_retries=1).rpc_retries == 1 and p.rpc_retries == 3
    with pytest.raises(ConfigError, match="rpc_retries"):
        PlatformConfig(rpc_retries=-1)
    cfg = Config().with_params(platform=p)
    assert cfg.platform is p
