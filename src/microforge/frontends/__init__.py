"""Model readers: :func:`read_model` turns a model file (path or bytes) into the IR, choosing the
reader by the file's content, not its name. Writers live beside their reader (``tflite.writer``).

A new format adds one :class:`Format` row to ``FORMATS``: a content test and a reader.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from microforge.errors import ModelError
from microforge.frontends.tflite import TFLITE_IDENTIFIER, read_tflite, write_tflite
from microforge.ir import Graph

ModelSource = str | os.PathLike | bytes | bytearray | memoryview


@dataclass(frozen=True)
class Format:
    """One model format: ``sniff(head)`` says whether the file's first bytes are this format."""

    name: str
    sniff: Callable[[bytes], bool]
    read: Callable[[ModelSource], Graph]


FORMATS: tuple[Format, ...] = (
    Format("TensorFlow Lite", lambda head: head[4:8] == TFLITE_IDENTIFIER, read_tflite),
)


def _head(source: ModelSource) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:16])
    try:
        with open(source, "rb") as f:
            return f.read(16)
    except FileNotFoundError:
        raise ModelError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ModelError(f"{source}: is a directory, expected a model file") from None
    except OSError as exc:
        raise ModelError(f"{source}: cannot read ({exc.strerror})") from None


def read_model(source: ModelSource) -> Graph:
    """Read a model from a path or bytes, whatever its format (today: ``.tflite``)."""
    if not isinstance(source, (bytes, bytearray, memoryview)):
        source = Path(source)
    head = _head(source)
    for fmt in FORMATS:
        if fmt.sniff(head):
            return fmt.read(source)
    # No format claims it: the TFLite reader gives the one-line error for an unknown file.
    return read_tflite(source)


__all__ = ["FORMATS", "Format", "read_model", "read_tflite", "write_tflite"]
