"""Secret and SecretRequest."""

from __future__ import annotations

import pathlib

import pytest

from flyte_models import Secret, SecretRequest, secrets_from_request


def test_default_env_var_name_is_derived_from_key_and_group() -> None:
    assert Secret("my-key").as_env_var == "MY_KEY"
    assert Secret("k", group="grp").as_env_var == "GRP_K"
    assert Secret("k", as_env_var="OPENAI_API_KEY").as_env_var == "OPENAI_API_KEY"


def test_mounted_secret_has_no_env_var() -> None:
    s = Secret("k", mount=pathlib.Path("/etc/flyte/secrets"))
    assert s.as_env_var is None and s.mount == pathlib.Path("/etc/flyte/secrets")


def test_secret_validation_names_field_and_value() -> None:
    with pytest.raises(ValueError, match="Secret.mount must be '/etc/flyte/secrets' .* got '/tmp'"):
        Secret("k", mount=pathlib.Path("/tmp"))
    with pytest.raises(ValueError, match="Secret.as_env_var must match .* got 'lower'"):
        Secret("k", as_env_var="lower")
    with pytest.raises(ValueError, match="Secret.key must be a non-empty str, got ''"):
        Secret("")
    with pytest.raises(TypeError, match="Secret.group must be a str or None, got 1"):
        Secret("k", group=1)  # type: ignore[arg-type]


def test_stable_hash_and_hashability() -> None:
    a, b = Secret("k"), Secret("k")
    assert a.stable_hash() == b.stable_hash() and len(a.stable_hash()) == 64
    assert Secret("k2").stable_hash() != a.stable_hash()
    assert len({a, b}) == 1


def test_secrets_from_request() -> None:
    request: SecretRequest = ["a", Secret("b", as_env_var="B")]
    assert secrets_from_request(request) == [Secret("a"), Secret("b", as_env_var="B")]
    assert secrets_from_request("x") == [Secret("x")]
    assert secrets_from_request(Secret("y")) == [Secret("y")]
    assert secrets_from_request(None) == []
    with pytest.raises(TypeError, match="secrets entries must be str or Secret, got 3"):
        secrets_from_request(["a", 3])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="secrets must be a str, a Secret or a list of them, got 3"):
        secrets_from_request(3)  # type: ignore[arg-type]
