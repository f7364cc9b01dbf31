"""Kubernetes pod customisation of a task (sidecars, volumes, security context, labels).

`PodTemplate.pod_spec` may be a `kubernetes.client.V1PodSpec` or the equivalent plain dict in
Kubernetes API (camelCase) form. The helper methods (`allow_fuse`, `allow_nested_sandboxing`,
`with_termination_grace_period`) work on the dict form and return a new template whose `pod_spec`
is a dict; a `V1PodSpec` is converted first (this needs the `kubernetes` package, imported only
then). `to_pod_spec_dict()` gives the dict form for serialisation.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Union

__all__ = ["PRIMARY_CONTAINER_DEFAULT_NAME", "PodTemplate", "TerminationGracePeriod"]

PRIMARY_CONTAINER_DEFAULT_NAME = "primary"
"""The name of the container Flyte runs the task in, unless a template names another."""

TerminationGracePeriod = Union[int, timedelta]
"""A termination grace period: int seconds or a `timedelta`."""

_FUSE_VOLUME = "fuse-device"
_FUSE_PATH = "/dev/fuse"
_FUSE_RESOURCE = "smarter-devices/fuse"
_CAPABILITY_ANNOTATION = "flyte.org/capability-"
_APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _pod_spec_to_dict(pod_spec: Any) -> dict[str, Any]:
    if pod_spec is None:
        return {}
    if isinstance(pod_spec, dict):
        return copy.deepcopy(pod_spec)
    from kubernetes.client import ApiClient  # deferred: optional, heavy

    result = ApiClient().sanitize_for_serialization(pod_spec)
    if not isinstance(result, dict):  # pragma: no cover - defensive
        raise TypeError(f"pod_spec must serialise to a dict, got {result!r}")
    return result


@dataclass(frozen=True)
class PodTemplate:
    """A Kubernetes pod template for a task.

    Args:
        pod_spec: A `kubernetes.client.V1PodSpec` or a pod spec dict (API form).
        primary_container_name: The container Flyte injects the task image and command into.
        labels: Pod labels.
        annotations: Pod annotations.
    """

    pod_spec: Any = None
    primary_container_name: str = PRIMARY_CONTAINER_DEFAULT_NAME
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.primary_container_name, str) or not self.primary_container_name:
            raise ValueError(
                "PodTemplate.primary_container_name must be a non-empty str, "
                f"got {self.primary_container_name!r}"
            )
        for name in ("labels", "annotations"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                raise TypeError(f"PodTemplate.{name} must be a dict or None, got {value!r}")

    @classmethod
    def from_spec(
        cls,
        pod_spec: Any,
        *,
        primary_container_name: str | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
    ) -> PodTemplate:
        """Wrap a pod spec, choosing its primary container.

        The primary container is `primary_container_name` if given (it must exist), else the
        container named `primary`, else the only container.

        Args:
            pod_spec: A `V1PodSpec` or a pod spec dict; it is deep-copied.
            primary_container_name: The primary container's name.
            labels: Pod labels.
            annotations: Pod annotations.

        Returns:
            The template.

        Raises:
            ValueError: If the primary container cannot be determined.
        """
        if isinstance(pod_spec, dict):
            containers = pod_spec.get("containers") or []
            names = [c.get("name") for c in containers]
        else:
            names = [
                getattr(c, "name", None) for c in (getattr(pod_spec, "containers", None) or [])
            ]
        if primary_container_name is not None:
            if primary_container_name not in names:
                raise ValueError(
                    f"primary_container_name {primary_container_name!r} is not a container of the "
                    f"pod spec (containers: {names})"
                )
            resolved = primary_container_name
        elif PRIMARY_CONTAINER_DEFAULT_NAME in names:
            resolved = PRIMARY_CONTAINER_DEFAULT_NAME
        elif len(names) == 1 and names[0]:
            resolved = str(names[0])
        else:
            raise ValueError(
                f"primary_container_name is needed: the pod spec has containers {names} and none is "
                f"named {PRIMARY_CONTAINER_DEFAULT_NAME!r}"
            )
        return cls(
            pod_spec=copy.deepcopy(pod_spec),
            primary_container_name=resolved,
            labels=dict(labels) if labels else None,
            annotations=dict(annotations) if annotations else None,
        )

    def to_pod_spec_dict(self) -> dict[str, Any]:
        """Return the pod spec as a dict in Kubernetes API form (empty when unset)."""
        return _pod_spec_to_dict(self.pod_spec)

    def _with_primary(self) -> tuple[dict[str, Any], dict[str, Any]]:
        spec = self.to_pod_spec_dict()
        containers = spec.setdefault("containers", [])
        for container in containers:
            if container.get("name") == self.primary_container_name:
                return spec, container
        container = {"name": self.primary_container_name}
        containers.append(container)
        return spec, container

    def _stamped(self, spec: dict[str, Any], annotations: dict[str, str], cap: str) -> PodTemplate:
        annotations = dict(annotations)
        annotations[_CAPABILITY_ANNOTATION + cap] = "true"
        return replace(self, pod_spec=spec, annotations=annotations)

    def allow_fuse(self, privileged: bool = False) -> PodTemplate:
        """Return a copy allowed to perform FUSE mounts.

        By default (unprivileged) the primary container requests the `smarter-devices/fuse`
        device-plugin resource and gets `SYS_ADMIN`. With `privileged=True` (clusters without a
        FUSE device plugin) it instead mounts `/dev/fuse` from the host and runs privileged.

        Args:
            privileged: Use the privileged host-path variant.

        Returns:
            The new template.

        Raises:
            ValueError: If the template pins a conflicting security context.
        """
        spec, primary = self._with_primary()
        security = primary.setdefault("securityContext", {})
        if privileged:
            if security.get("privileged") is False:
                raise ValueError(
                    "allow_fuse(privileged=True) needs privileged=true, but the primary container "
                    f"{self.primary_container_name!r} sets privileged=False"
                )
            if security.get("allowPrivilegeEscalation") is False:
                raise ValueError(
                    "allow_fuse(privileged=True) conflicts with allowPrivilegeEscalation=False on "
                    f"the primary container {self.primary_container_name!r}"
                )
            volumes = spec.setdefault("volumes", [])
            if not any(v.get("name") == _FUSE_VOLUME for v in volumes):
                volumes.append(
                    {"name": _FUSE_VOLUME, "hostPath": {"path": _FUSE_PATH, "type": "CharDevice"}}
                )
            mounts = primary.setdefault("volumeMounts", [])
            if not any(m.get("name") == _FUSE_VOLUME for m in mounts):
                mounts.append({"name": _FUSE_VOLUME, "mountPath": _FUSE_PATH})
            security["privileged"] = True
        else:
            resources = primary.setdefault("resources", {})
            resources["requests"] = {**(resources.get("requests") or {}), _FUSE_RESOURCE: "1"}
            resources["limits"] = {**(resources.get("limits") or {}), _FUSE_RESOURCE: "1"}
        caps = security.setdefault("capabilities", {})
        add = caps.setdefault("add", [])
        if "SYS_ADMIN" not in add:
            add.append("SYS_ADMIN")
        return self._stamped(spec, self.annotations or {}, "fuse")

    def allow_nested_sandboxing(self) -> PodTemplate:
        """Return a copy allowed to create nested sandboxes (e.g. bubblewrap).

        The primary container gets `SYS_ADMIN`, `allowPrivilegeEscalation: false` and an
        unconfined AppArmor profile.

        Returns:
            The new template.

        Raises:
            ValueError: If the template pins a conflicting security context or AppArmor profile.
        """
        spec, primary = self._with_primary()
        security = primary.setdefault("securityContext", {})
        if security.get("privileged") is True:
            raise ValueError(
                "allow_nested_sandboxing() conflicts with privileged=True on the primary container "
                f"{self.primary_container_name!r}"
            )
        if security.get("allowPrivilegeEscalation") is True:
            raise ValueError(
                "allow_nested_sandboxing() needs allowPrivilegeEscalation=false, but the primary "
                f"container {self.primary_container_name!r} sets it to True"
            )
        key = _APPARMOR_ANNOTATION + self.primary_container_name
        annotations = dict(self.annotations or {})
        existing = annotations.get(key)
        if existing is not None and existing != "unconfined":
            raise ValueError(
                f"allow_nested_sandboxing() needs annotation {key}='unconfined', got {existing!r}"
            )
        annotations[key] = "unconfined"
        caps = security.setdefault("capabilities", {})
        add = caps.setdefault("add", [])
        if "SYS_ADMIN" not in add:
            add.append("SYS_ADMIN")
        security["allowPrivilegeEscalation"] = False
        return self._stamped(spec, annotations, "nested-sandboxing")

    def with_termination_grace_period(
        self, termination_grace_period: TerminationGracePeriod
    ) -> PodTemplate:
        """Return a copy with Kubernetes' `terminationGracePeriodSeconds` set.

        Args:
            termination_grace_period: Int seconds or a `timedelta` (whole seconds are kept).

        Returns:
            The new template.

        Raises:
            TypeError: For a value that is not an int or a timedelta.
            ValueError: For a negative period.
        """
        value = termination_grace_period
        if isinstance(value, bool) or not isinstance(value, int | timedelta):
            raise TypeError(
                "termination_grace_period must be an int (seconds) or a timedelta, "
                f"got {value!r}"
            )
        seconds = int(value.total_seconds()) if isinstance(value, timedelta) else value
        if seconds < 0:
            raise ValueError(f"termination_grace_period must be >= 0, got {value!r}")
        spec, _ = self._with_primary()
        spec["terminationGracePeriodSeconds"] = seconds
        return replace(self, pod_spec=spec)
