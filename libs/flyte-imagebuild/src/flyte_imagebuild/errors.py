"""Errors of flyte-imagebuild; all are `flyte.errors.ImageBuildError`s."""

from __future__ import annotations

from collections.abc import Sequence

from flyte_models.errors import ImageBuildError
from flyte_runtime._images import ImageBuilderUnavailableError

__all__ = ["BuildFailedError", "ImageBuildError", "ImageBuilderUnavailableError"]


class BuildFailedError(ImageBuildError):
    """A build, push or pull step failed; `log_tail` holds the builder's last output lines.

    Args:
        message: What failed and what to do about it.
        log_tail: The last lines the builder printed (also appended to the message).
    """

    CODE = "ImageBuildError"

    def __init__(self, message: str, log_tail: Sequence[str] = ()) -> None:
        self.log_tail = list(log_tail)
        if self.log_tail:
            message = message + "\n--- last builder output ---\n" + "\n".join(self.log_tail)
        super().__init__(message)
