"""Compatibility home of the image spec's names for scripts written against the reference SDK,
which import `flyte._image` directly (e.g. `from flyte._image import DIST_FOLDER, PythonWheels`)."""

from flyte_models import Image, Layer, PipPackages, PythonWheels
from flyte_models._image import _local_wheels_dir

DIST_FOLDER = _local_wheels_dir()
"""Where locally built wheels are looked for: `FLYTE_LOCAL_WHEELS_DIR`, or `dist/`."""

__all__ = ["DIST_FOLDER", "Image", "Layer", "PipPackages", "PythonWheels"]
