"""PodTemplate and its helpers (dict pod specs; no kubernetes package needed)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flyte_models import PRIMARY_CONTAINER_DEFAULT_NAME, PodTemplate


def test_defaults() -> None:
    pt = PodTemplate()
    assert pt.primary_container_name == PRIMARY_CONTAINER_DEFAULT_NAME == "primary"
    assert pt.to_pod_spec_dict() == {}


def test_from_spec_resolves_the_primary_container() -> None:
    one = {"containers": [{"name": "main"}]}
    assert PodTemplate.from_spec(one).primary_container_name == "main"
    two = {"containers": [{"name": "side"}, {"name": "primary"}]}
    assert PodTemplate.from_spec(two, labels={"a": "b"}).labels == {"a": "b"}
    assert (
        PodTemplate.from_spec(two, primary_container_name="side").primary_container_name == "side"
    )
    with pytest.raises(ValueError, match="primary_container_name 'x' is not a container"):
        PodTemplate.from_spec(two, primary_container_name="x")
    with pytest.raises(ValueError, match="containers \\['a', 'b'\\]"):
        PodTemplate.from_spec({"containers": [{"name": "a"}, {"name": "b"}]})
    spec = {"containers": [{"name": "primary"}]}
    pt = PodTemplate.from_spec(spec)
    spec["containers"].append({"name": "later"})
    assert len(pt.to_pod_spec_dict()["containers"]) == 1


def test_termination_grace_period() -> None:
    pt = PodTemplate().with_termination_grace_period(timedelta(minutes=2))
    spec = pt.to_pod_spec_dict()
    assert spec["terminationGracePeriodSeconds"] == 120
    assert spec["containers"] == [{"name": "primary"}]
    assert (
        PodTemplate()
        .with_termination_grace_period(5)
        .to_pod_spec_dict()["terminationGracePeriodSeconds"]
        == 5
    )
    with pytest.raises(ValueError, match="termination_grace_period must be >= 0, got -1"):
        PodTemplate().with_termination_grace_period(-1)
    with pytest.raises(TypeError, match="termination_grace_period must be an int .* got True"):
        PodTemplate().with_termination_grace_period(True)


def test_allow_fuse_unprivileged_and_privileged() -> None:
    base = PodTemplate(pod_spec={"containers": [{"name": "primary", "image": "x"}]})
    fuse = base.allow_fuse()
    primary = fuse.to_pod_spec_dict()["containers"][0]
    assert primary["resources"]["limits"]["smarter-devices/fuse"] == "1"
    assert primary["securityContext"]["capabilities"]["add"] == ["SYS_ADMIN"]
    assert fuse.annotations == {"flyte.org/capability-fuse": "true"}
    assert base.pod_spec == {"containers": [{"name": "primary", "image": "x"}]}
    assert fuse.allow_fuse().to_pod_spec_dict() == fuse.to_pod_spec_dict()
    priv = base.allow_fuse(privileged=True).to_pod_spec_dict()
    assert priv["volumes"][0]["hostPath"]["path"] == "/dev/fuse"
    assert priv["containers"][0]["securityContext"]["privileged"] is True
    sandboxed = base.allow_nested_sandboxing()
    with pytest.raises(ValueError, match="allowPrivilegeEscalation=False"):
        sandboxed.allow_fuse(privileged=True)
    assert sandboxed.allow_fuse().annotations is not None


def test_allow_nested_sandboxing() -> None:
    pt = PodTemplate().allow_nested_sandboxing()
    primary = pt.to_pod_spec_dict()["containers"][0]
    assert primary["securityContext"]["allowPrivilegeEscalation"] is False
    assert pt.annotations is not None
    assert pt.annotations["container.apparmor.security.beta.kubernetes.io/primary"] == "unconfined"
    assert pt.annotations["flyte.org/capability-nested-sandboxing"] == "true"
    privileged = PodTemplate().allow_fuse(privileged=True)
    with pytest.raises(ValueError, match="conflicts with privileged=True"):
        privileged.allow_nested_sandboxing()
    pinned = PodTemplate(
        annotations={"container.apparmor.security.beta.kubernetes.io/primary": "runtime/default"}
    )
    with pytest.raises(ValueError, match="got 'runtime/default'"):
        pinned.allow_nested_sandboxing()


def test_validation_names_field_and_value() -> None:
    with pytest.raises(
        ValueError, match="PodTemplate.primary_container_name must be a non-empty str, got ''"
    ):
        PodTemplate(primary_container_name="")
    with pytest.raises(TypeError, match="PodTemplate.labels must be a dict or None, got \\['a'\\]"):
        PodTemplate(labels=["a"])  # type: ignore[arg-type]
