"""Config, auth and a grpc.aio ClientSet for a Flyte 2 control plane; the remote objects."""

from flyte_client._version import __version__

__all__ = ["__version__"]
