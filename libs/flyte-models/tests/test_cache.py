"""Cache, CachePolicy, FunctionBodyPolicy and the cache request aliases."""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

import pytest

from flyte_models import (
    Cache,
    CacheBehavior,
    CachePolicy,
    CacheRequest,
    CodeBundle,
    FunctionBodyPolicy,
    VersionParameters,
    cache_from_request,
)


def sample(x: int) -> int:
    return x + 1


def sample_reformatted(x: int) -> int:
    return x + 1


@pytest.mark.parametrize(
    ("alias", "behavior"),
    [
        ("auto", "auto"),
        ("override", "override"),
        ("disable", "disable"),
        ("enable", "auto"),
        ("enabled", "auto"),
        ("on", "auto"),
        ("true", "auto"),
        ("yes", "auto"),
        ("ON", "auto"),
        ("off", "disable"),
        ("false", "disable"),
        ("no", "disable"),
        ("none", "disable"),
    ],
)
def test_behavior_aliases_are_normalised(alias: str, behavior: str) -> None:
    assert Cache(behavior=alias).behavior == behavior  # type: ignore[arg-type]
    assert cache_from_request(alias).behavior == behavior  # type: ignore[arg-type]


def test_behaviors_and_request_forms() -> None:
    assert get_args(CacheBehavior) == ("auto", "override", "disable")
    requests: list[CacheRequest] = ["auto", Cache("disable")]
    assert [cache_from_request(r).is_enabled() for r in requests] == [True, False]
    assert cache_from_request(None) == Cache("disable")
    c = Cache("auto")
    assert cache_from_request(c) is c


def test_invalid_behavior_names_value() -> None:
    with pytest.raises(ValueError, match="Cache.behavior must be one of .* got 'always'"):
        Cache(behavior="always")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cache must be a Cache or one of .* got 3"):
        cache_from_request(3)  # type: ignore[arg-type]


def test_normalisation_of_fields() -> None:
    c = Cache("auto", ignored_inputs="x", max_age=60)
    assert c.get_ignored_inputs() == ("x",) and c.ignored_inputs == ("x",)
    assert c.max_age == timedelta(seconds=60)
    assert c.policies == (FunctionBodyPolicy(),)
    assert Cache("disable").policies == ()
    assert Cache("auto", ignored_inputs=["a", "b"]).get_ignored_inputs() == ("a", "b")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_age": -1}, ValueError, "Cache.max_age must be >= 0, got -1"),
        (
            {"max_age": 1.5},
            TypeError,
            "Cache.max_age must be an int \\(seconds\\), a timedelta or None, got 1.5",
        ),
        ({"max_age": True}, TypeError, "got True"),
        (
            {"ignored_inputs": 3},
            TypeError,
            "Cache.ignored_inputs must be a str or a tuple of str, got 3",
        ),
        ({"policies": []}, ValueError, "Cache.policies must not be empty .* got policies=\\[\\]"),
        ({"policies": [object()]}, TypeError, "Cache.policies entries must have get_version\\(\\)"),
        ({"salt": 1}, TypeError, "Cache.salt must be a str, got 1"),
        ({"version_override": 2}, TypeError, "Cache.version_override must be a str or None, got 2"),
    ],
)
def test_cache_validation(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Cache("auto", **kwargs)  # type: ignore[arg-type]


def test_get_version() -> None:
    params = VersionParameters(func=sample)
    assert Cache("disable").get_version(params) == ""
    assert Cache("override", version_override="v7").get_version() == "v7"
    auto = Cache("auto").get_version(params)
    assert len(auto) == 64 and auto == Cache("auto").get_version(params)
    assert Cache("auto", salt="s").get_version(params) != auto
    pickled = VersionParameters(
        func=sample, code_bundle=CodeBundle(computed_version="cv", pkl="s3://x")
    )
    assert Cache("auto").get_version(pickled) == "cv"
    with pytest.raises(ValueError, match="params must be given"):
        Cache("auto").get_version()


def test_function_body_policy_ignores_names_but_not_bodies() -> None:
    policy = FunctionBodyPolicy()
    a = policy.get_version("", VersionParameters(func=sample))
    assert a != policy.get_version("", VersionParameters(func=test_get_version))
    assert policy.get_version("", VersionParameters(func=None)) == ""
    assert repr(policy) == "FunctionBodyPolicy()" and policy == FunctionBodyPolicy()
    assert hash(policy) == hash(FunctionBodyPolicy())
    assert sample_reformatted.__name__ != sample.__name__


def test_custom_cache_policy_protocol() -> None:
    class Fixed:
        def get_version(self, salt: str, params: VersionParameters) -> str:
            return "fixed" + salt

    assert isinstance(Fixed(), CachePolicy)
    c = Cache("auto", policies=Fixed())
    assert c.get_version(VersionParameters(func=None)) == Cache(
        "auto", policies=[Fixed()]
    ).get_version(VersionParameters(func=None))

    class Broken:
        def get_version(self, salt: str, params: VersionParameters) -> str:
            raise RuntimeError("no git")

    with pytest.raises(ValueError, match="failed to compute a version: no git"):
        Cache("auto", policies=[Broken()]).get_version(VersionParameters(func=None))
