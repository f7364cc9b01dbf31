"""`flyte._internal.resolvers.default.DefaultTaskResolver`: the path task specs write after
`--resolver`; it is `flyte_runtime._resolver.DefaultTaskResolver`."""

from flyte_runtime._resolver import DefaultTaskResolver

__all__ = ["DefaultTaskResolver"]
