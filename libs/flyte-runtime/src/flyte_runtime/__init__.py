"""The Flyte execution engine (local and remote controllers, the a0 entrypoint) and the user-facing `flyte` package."""

from flyte_runtime._version import __version__

__all__ = ["__version__"]
