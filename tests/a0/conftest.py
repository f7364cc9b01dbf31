"""The `tests/` source root on `sys.path`, so `support.*` imports resolve as they do under Pants."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
