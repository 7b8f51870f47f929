"""Load the compiled artifacts of our own contracts that ship inside the package."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from vaultexec.errors import ToolchainError

ARTIFACTS_DIR = Path(__file__).with_name("artifacts")


@cache
def load_artifact(name: str) -> dict[str, Any]:
    """The shipped JSON of contract `name` (keys include "abi" and "bytecode")."""
    path = ARTIFACTS_DIR / f"{name}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as exc:
        known = sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))
        raise ToolchainError(
            f"No shipped artifact {name!r} in {ARTIFACTS_DIR} (have: {', '.join(known) or 'none'}). "
            "Rebuild with `bash contracts/build.sh`."
        ) from exc
    return data
