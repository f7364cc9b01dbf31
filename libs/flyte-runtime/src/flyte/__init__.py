"""Flyte: write pipelines as plain Python tasks that call tasks; run them locally or on Flyte 2."""

from flyte_runtime._version import __version__

__all__ = ["__version__"]
