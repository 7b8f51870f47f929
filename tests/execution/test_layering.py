"""Imports go down the layering of DESIGN.md: nothing below the CLI (the demo, execution, testing) imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import vaultexec

PACKAGE = Path(vaultexec.__file__).resolve().parent


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{relative}: {name}" for name in names if name.startswith("vaultexec.cli")]
    assert offenders == []
