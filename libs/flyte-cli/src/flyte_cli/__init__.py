"""The `flyte` command line."""

from flyte_cli._version import __version__

__all__ = ["__version__"]
