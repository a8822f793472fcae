"""Model readers: :func:`read_model` turns a model file (path or bytes) into the IR, choosing the
reader by the file's content, not its name. Writers live beside their reader (``tflite.writer``).

A new format adds one :class:`Format` row to ``FORMATS``: a content test and a reader.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from microforge.errors import ModelError
from microforge.frontends.keras import is_hdf5, is_zip, parse_keras_h5, parse_keras_zip
from microforge.frontends.onnx import parse_onnx, sniff_onnx
from microforge.frontends.source import ModelSource, load_bytes
from microforge.frontends.tflite import TFLITE_IDENTIFIER, parse_tflite, read_tflite, write_tflite
from microforge.frontends.validate import validate_graph
from microforge.ir import Graph


@dataclass(frozen=True)
class Format:
    """One model format: ``sniff(data)`` says whether a file's bytes are this format, ``parse``
    reads them (``where`` names the file in errors)."""

    name: str
    sniff: Callable[[bytes], bool]
    parse: Callable[[bytes, str], Graph]


FORMATS: tuple[Format, ...] = (
    Format("TensorFlow Lite", lambda data: data[4:8] == TFLITE_IDENTIFIER, parse_tflite),
    Format("Keras HDF5 (.h5)", is_hdf5, parse_keras_h5),
    Format("Keras 3 (.keras)", is_zip, parse_keras_zip),
    Format("ONNX", sniff_onnx, parse_onnx),
)


# What a reader's Python code raises on content no exporter writes.
READER_FAULTS = (IndexError, KeyError, ValueError, TypeError, AttributeError, OverflowError,
                 ZeroDivisionError, FloatingPointError, RecursionError, struct.error)


def format_of(source: ModelSource) -> str:
    """The name of the format a model file is in ("TensorFlow Lite", "ONNX", ...), by content."""
    data, _ = load_bytes(source)
    for fmt in FORMATS:
        if fmt.sniff(data):
            return fmt.name
    return "unknown"


def read_model(source: ModelSource) -> Graph:
    """Read a model from a path or bytes, whatever its format (``.tflite``, ``.onnx``, Keras
    ``.h5`` / ``.keras``), and validate it (:mod:`microforge.frontends.validate`)."""
    data, where = load_bytes(source)
    # No format claims it: the TFLite reader gives the one-line error for an unknown file.
    fmt = next((fmt for fmt in FORMATS if fmt.sniff(data)), FORMATS[0])
    try:
        with np.errstate(all="raise"):  # a NaN or overflow while reading is a corrupt file
            graph = fmt.parse(data, where)
    except READER_FAULTS as exc:  # a reader's own checks missed a corruption: still one line
        raise ModelError(f"{where}: a corrupt {fmt.name} file ({type(exc).__name__}: {exc}); "
                         "re-export the model") from None
    try:
        return validate_graph(graph)
    except ModelError as exc:
        raise type(exc)(f"{where}: {exc}") from None


__all__ = ["FORMATS", "Format", "ModelSource", "format_of", "read_model", "read_tflite", "write_tflite"]
