"""The version of this library; every flyte-* library shares it (build-support/macros.py)."""

__version__ = "1!0+dev"
