"""Where a model comes from: a path or bytes, read once into bytes and a name for messages."""

from __future__ import annotations

import os
from pathlib import Path

from microforge import limits
from microforge.errors import ModelError

ModelSource = str | os.PathLike | bytes | bytearray | memoryview


def load_bytes(source: ModelSource, expected: str = "a model file") -> tuple[bytes, str]:
    """The model's bytes and how to name it in an error (its path, or ``<bytes>``); a file
    larger than ``MICROFORGE_MAX_FILE_BYTES`` is refused before it is read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        limits.FILE_BYTES.check(len(data), "<bytes>")
        return data, "<bytes>"
    where = str(source)
    try:
        if Path(source).is_file():
            limits.FILE_BYTES.check(Path(source).stat().st_size, where)
        return Path(source).read_bytes(), where
    except FileNotFoundError:
        raise ModelError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ModelError(f"{where}: is a directory, expected {expected}") from None
    except OSError as exc:
        raise ModelError(f"{where}: cannot read ({exc.strerror})") from None
