"""The adapter tests reuse the executor tests' world helpers (tests/execution/exec_pipeline.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "execution"))
