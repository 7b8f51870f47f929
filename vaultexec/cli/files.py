"""Writing output files all or nothing (CSV exports of the CLI and of scripts)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypeVar

from vaultexec.errors import BadInputError

T = TypeVar("T")


def write_atomically(target: Path, write: Callable[[TextIO], T]) -> T:
    """Run `write` on a temp file next to `target`, then rename it over `target`: all or nothing.

    If `write` fails (e.g. a corrupt record half-way), `target` keeps its old content and the temp file is
    removed. The new file gets the old file's permissions, or the usual ones (umask) for a new file. A
    folder that does not exist or cannot be written is a BadInputError.
    """
    if target.is_dir():
        raise BadInputError(f"Cannot write {target}: it is a folder. Give a file name, not a folder.")
    try:
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        descriptor, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise BadInputError(f"Cannot write {target}: {exc.strerror or exc}. Choose another output file.") from exc
    try:
        with open(descriptor, "w", newline="") as stream:
            result = write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return result


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
