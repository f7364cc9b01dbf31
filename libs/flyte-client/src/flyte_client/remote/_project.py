"""Projects: `Project.get/listall/create/update/archive/unarchive`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

from flyteidl2.common import list_pb2
from flyteidl2.project import project_service_pb2
from flyteidl2.task import run_pb2

from flyte_client.remote import _client
from flyte_client.remote._errors import translate
from flyte_models import syncify

__all__ = ["Project"]


@dataclass
class Project:
    """A project on the control plane (its domains, description, labels and state)."""

    pb2: project_service_pb2.Project

    @syncify
    @classmethod
    async def get(cls, name: str) -> Project:
        """Fetch project `name` (its id).

        Raises:
            ActionNotFoundError: If there is no such project.
        """
        org = _client.current_config().org
        try:
            resp = await _client._clients().project_service.GetProject(
                project_service_pb2.GetProjectRequest(id=name, org=org)
            )
        except Exception as exc:
            raise translate(exc, f"get project {name!r}") from exc
        return cls(resp.project)

    @syncify
    @classmethod
    async def create(
        cls, id: str, name: str, description: str = "", labels: dict[str, str] | None = None
    ) -> Project:
        """Create project `id` (display name `name`)."""
        org = _client.current_config().org
        pb = project_service_pb2.Project(
            id=id,
            name=name,
            description=description,
            labels=run_pb2.Labels(values=labels or {}),
            org=org,
        )
        try:
            await _client._clients().project_service.CreateProject(
                project_service_pb2.CreateProjectRequest(project=pb)
            )
        except Exception as exc:
            raise translate(exc, f"create project {id!r}") from exc
        return await cls.get.aio(id)  # type: ignore[no-any-return]

    @syncify
    @classmethod
    async def update(
        cls,
        id: str,
        name: str | None = None,
        description: str | None = None,
        labels: dict[str, str] | None = None,
        state: Literal["archived", "active"] | None = None,
    ) -> Project:
        """Change the given fields of project `id`; the others keep their values."""
        current: Project = await cls.get.aio(id)
        pb = project_service_pb2.Project()
        pb.CopyFrom(current.pb2)
        if name is not None:
            pb.name = name
        if description is not None:
            pb.description = description
        if labels is not None:
            pb.labels.CopyFrom(run_pb2.Labels(values=labels))
        if state is not None:
            if state not in ("archived", "active"):
                raise ValueError(f"state must be 'archived' or 'active', got {state!r}")
            pb.state = (
                project_service_pb2.PROJECT_STATE_ARCHIVED
                if state == "archived"
                else project_service_pb2.PROJECT_STATE_ACTIVE
            )
        try:
            await _client._clients().project_service.UpdateProject(
                project_service_pb2.UpdateProjectRequest(project=pb)
            )
        except Exception as exc:
            raise translate(exc, f"update project {id!r}") from exc
        return await cls.get.aio(id)  # type: ignore[no-any-return]

    @syncify
    async def archive(self) -> Project:
        """Archive this project."""
        return await Project.update.aio(self.pb2.id, state="archived")  # type: ignore[no-any-return]

    @syncify
    async def unarchive(self) -> Project:
        """Make this project active again."""
        return await Project.update.aio(self.pb2.id, state="active")  # type: ignore[no-any-return]

    @syncify
    @classmethod
    async def listall(
        cls,
        filters: str | None = None,
        sort_by: tuple[str, Literal["asc", "desc"]] | None = None,
        archived: bool = False,
    ) -> AsyncIterator[Project]:
        """Yield the active projects (the archived ones with `archived=True`).

        Args:
            filters: A server-side filter expression, e.g. `"eq(name, demo)"`.
            sort_by: `(field, "asc"|"desc")`; oldest first by default.
            archived: List archived projects instead of active ones.
        """
        from flyte_client.remote._common import sorting

        state = (
            project_service_pb2.PROJECT_STATE_ARCHIVED
            if archived
            else project_service_pb2.PROJECT_STATE_ACTIVE
        )
        expr = f"eq(state, {state})"
        expr = f"{filters}+{expr}" if filters else expr
        sort = sorting(sort_by, ("created_at", "asc")) or list_pb2.Sort()
        token = ""
        while True:
            try:
                resp = await _client._clients().project_service.ListProjects(
                    project_service_pb2.ListProjectsRequest(
                        limit=100, token=token, filters=expr, sort_by=sort
                    )
                )
            except Exception as exc:
                raise translate(exc, "list projects") from exc
            for p in resp.projects.projects:
                # Servers that ignore the filter expression still list only the requested state.
                if (p.state == project_service_pb2.PROJECT_STATE_ARCHIVED) == archived:
                    yield cls(p)
            token = resp.projects.token
            if not token:
                return

    @property
    def id(self) -> str:
        return self.pb2.id

    @property
    def name(self) -> str:
        return self.pb2.name or self.pb2.id

    @property
    def description(self) -> str:
        return self.pb2.description

    @property
    def domains(self) -> list[str]:
        return [d.id for d in self.pb2.domains]

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.pb2.labels.values)

    @property
    def archived(self) -> bool:
        return self.pb2.state == project_service_pb2.PROJECT_STATE_ARCHIVED

    def __repr__(self) -> str:
        return f"Project(id={self.id!r}, name={self.name!r}, domains={self.domains})"
