"""Runs and their outputs. Locally `flyte.run` returns a finished `Run`; the control-plane
objects (`Run.get`, `Task.get`, `Project`, ...) arrive with the client library."""

from flyte_runtime._run import ActionOutputs, LocalRun

Run = LocalRun

__all__ = ["ActionOutputs", "Run"]
