"""Output files of the commands: never overwrite what the user gave, never leave half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from microforge.errors import InputError


def check_output(source: Path, out: Path, force: bool) -> None:
    """Refuse ``out`` when it is the input model, exists (without ``force``) or has no folder."""
    if not source.is_file():
        raise InputError(f"{source}: no such file")
    if out.exists() and out.resolve() == source.resolve():
        raise InputError(f"{out} is the input model; choose another output path")
    if out.exists() and not force:
        raise InputError(f"{out} already exists; choose another path or pass --force")
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder for the output")


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder so a failure leaves nothing half-written."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
