"""Compatibility paths of the reference SDK's internals that task specs name (not public API)."""
