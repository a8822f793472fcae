"""Where a model comes from: a path or bytes, read once into bytes and a name for messages."""

from __future__ import annotations

import os
from pathlib import Path

from microforge.errors import ModelError

ModelSource = str | os.PathLike | bytes | bytearray | memoryview


def load_bytes(source: ModelSource, expected: str = "a model file") -> tuple[bytes, str]:
    """The model's bytes and how to name it in an error (its path, or ``<bytes>``)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), "<bytes>"
    where = str(source)
    try:
        return Path(source).read_bytes(), where
    except FileNotFoundError:
        raise ModelError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ModelError(f"{where}: is a directory, expected {expected}") from None
    except OSError as exc:
        raise ModelError(f"{where}: cannot read ({exc.strerror})") from None
