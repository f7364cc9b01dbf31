"""Offer async functions as blocking calls with an `.aio` twin (owned by flyte-models)."""

from flyte_models import Syncify, syncify

__all__ = ["Syncify", "syncify"]
