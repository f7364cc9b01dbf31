"""An embedded Flyte 2 control plane on 127.0.0.1: no Docker, no Kubernetes."""

from flyte_devbox._version import __version__

__all__ = ["__version__"]
