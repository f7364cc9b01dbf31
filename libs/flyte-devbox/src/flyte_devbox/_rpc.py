"""Interceptors shared by every service: validation, error mapping, named UNIMPLEMENTED.

* Requests are validated with protovalidate against the `buf.validate` rules compiled into
  flyteidl2, as the Go backend does (`request.Validate()`); a violation answers
  INVALID_ARGUMENT naming the field, with the `buf.validate.Violations` attached as detail.
* Engine errors (`_errors.DevboxError`) become their Connect/gRPC code; anything else is a bug,
  logged with its traceback and answered INTERNAL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import protovalidate
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext

from flyte_devbox._errors import DevboxError

logger = logging.getLogger("flyte_devbox")


def _field_path(violation: Any) -> str:
    parts: list[str] = []
    for el in violation.proto.field.elements:
        name = el.field_name
        sub = getattr(el, "subscript", None)
        if sub is not None:
            value = getattr(sub, "value", sub)
            name += f"[{value}]" if isinstance(value, int) else f"[{value!r}]"
        parts.append(name)
    return ".".join(parts)


def _tolerated(violation: Any) -> bool:
    """An empty org: the devbox serves a single tenant, so it does not insist on one."""
    elements = list(violation.proto.field.elements)
    return (
        bool(elements)
        and elements[-1].field_name in ("org", "organization")
        and violation.proto.rule_id == "string.min_len"
    )


def _validate(request: Any) -> None:
    try:
        protovalidate.validate(request)
    except protovalidate.ValidationError as e:
        violations = [v for v in e.violations if not _tolerated(v)]
        if not violations:
            return
        details = []
        for v in violations:
            path = _field_path(v)
            message = v.proto.message or v.proto.rule_id
            details.append(f"{path}: {message}" if path else message)
        attached: list[Any] = []
        try:
            # buf.validate.Violations, registered by the flyteidl2 modules that import it.
            from google.protobuf import descriptor_pool, message_factory

            violations_type = message_factory.GetMessageClass(
                descriptor_pool.Default().FindMessageTypeByName("buf.validate.Violations")
            )
            attached.append(violations_type.FromString(e.to_proto().to_binary()))
        except Exception:  # pragma: no cover - the detail is a courtesy
            pass
        raise ConnectError(
            Code.INVALID_ARGUMENT,
            f"invalid {request.DESCRIPTOR.name}: " + "; ".join(details),
            details=attached,
        ) from None


def _map(e: Exception, ctx: RequestContext) -> ConnectError:
    if isinstance(e, ConnectError):
        if e.code == Code.UNIMPLEMENTED and e.message == "Not implemented":
            m = ctx.method()
            return ConnectError(
                Code.UNIMPLEMENTED,
                f"flyte-devbox does not implement {m.service_name}/{m.name}",
            )
        return e
    if isinstance(e, DevboxError):
        return ConnectError(Code[e.code], e.message)
    m = ctx.method()
    logger.exception("internal error in %s/%s", m.service_name, m.name)
    return ConnectError(Code.INTERNAL, f"flyte-devbox internal error: {type(e).__name__}: {e}")


class ServerInterceptor:
    """Validation, error mapping and call counting for unary and server-streaming methods."""

    def __init__(self) -> None:
        #: Calls per "Service/Method" (short service name), for `/_stats`.
        self.counts: dict[str, int] = {}

    def _count(self, ctx: RequestContext) -> None:
        m = ctx.method()
        name = f"{m.service_name.rsplit('.', 1)[-1]}/{m.name}"
        self.counts[name] = self.counts.get(name, 0) + 1

    async def intercept_unary(
        self,
        call_next: Callable[[Any, RequestContext], Awaitable[Any]],
        request: Any,
        ctx: RequestContext,
    ) -> Any:
        self._count(ctx)
        try:
            _validate(request)
            return await call_next(request, ctx)
        except Exception as e:
            raise _map(e, ctx) from None

    async def intercept_server_stream(
        self,
        call_next: Callable[[Any, RequestContext], AsyncIterator[Any]],
        request: Any,
        ctx: RequestContext,
    ) -> AsyncIterator[Any]:
        self._count(ctx)
        try:
            _validate(request)
            async for item in call_next(request, ctx):
                yield item
        except Exception as e:
            raise _map(e, ctx) from None
