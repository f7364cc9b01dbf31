"""The version of this plugin: the flyte-* libraries' shared version (build-support/macros.py)."""

__version__ = "1!0+dev"
