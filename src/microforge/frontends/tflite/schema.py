"""The one table between the TFLite schema and the IR, used by both the reader and the writer.

It maps builtin operator codes to names, builtin names to their options table and TFLite tensor
type codes to names (the names' numpy dtypes are IR facts: :mod:`microforge.ir.dtypes`), and
converts options tables to and from plain dicts (snake_case keys).
"""

from __future__ import annotations

import importlib
import inspect
import re
from functools import cache
from typing import Any

import numpy as np
from tflite.BuiltinOperator import BuiltinOperator
from tflite.BuiltinOptions import BuiltinOptions
from tflite.BuiltinOptions2 import BuiltinOptions2
from tflite.TensorType import TensorType

from microforge.ir.dtypes import DTYPES as DTYPES  # type name -> numpy dtype (an IR fact)


def _enum(cls: type) -> dict[str, int]:
    return {k: v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, int)}


BUILTIN_CODES: dict[str, int] = _enum(BuiltinOperator)
BUILTIN_NAMES: dict[int, str] = {v: k for k, v in BUILTIN_CODES.items()}
OPTIONS_TYPES: dict[str, int] = _enum(BuiltinOptions)
OPTIONS_NAMES: dict[int, str] = {v: k for k, v in OPTIONS_TYPES.items()}
OPTIONS2_TYPES: dict[str, int] = _enum(BuiltinOptions2)
OPTIONS2_NAMES: dict[int, str] = {v: k for k, v in OPTIONS2_TYPES.items()}
TENSOR_TYPES: dict[str, int] = _enum(TensorType)
TENSOR_TYPE_NAMES: dict[int, str] = {v: k for k, v in TENSOR_TYPES.items()}

# Builtin operator -> options table, for the operators made in code (options_type None): the
# writer gives them this table. (Operators read from a file keep the options table the file names.)
OPTIONS_OF: dict[str, str] = {
    "ADD": "AddOptions",
    "AVERAGE_POOL_2D": "Pool2DOptions",
    "CAST": "CastOptions",
    "CONCATENATION": "ConcatenationOptions",
    "CONV_2D": "Conv2DOptions",
    "DEPTHWISE_CONV_2D": "DepthwiseConv2DOptions",
    "DEQUANTIZE": "DequantizeOptions",
    "DIV": "DivOptions",
    "EXPAND_DIMS": "ExpandDimsOptions",
    "FULLY_CONNECTED": "FullyConnectedOptions",
    "HARD_SWISH": "HardSwishOptions",
    "LEAKY_RELU": "LeakyReluOptions",
    "MAXIMUM": "MaximumMinimumOptions",
    "MAX_POOL_2D": "Pool2DOptions",
    "MEAN": "ReducerOptions",
    "MINIMUM": "MaximumMinimumOptions",
    "MUL": "MulOptions",
    "PAD": "PadOptions",
    "PADV2": "PadV2Options",
    "QUANTIZE": "QuantizeOptions",
    "REDUCE_MAX": "ReducerOptions",
    "REDUCE_MIN": "ReducerOptions",
    "REDUCE_PROD": "ReducerOptions",
    "RESHAPE": "ReshapeOptions",
    "RESIZE_BILINEAR": "ResizeBilinearOptions",
    "RESIZE_NEAREST_NEIGHBOR": "ResizeNearestNeighborOptions",
    "SOFTMAX": "SoftmaxOptions",
    "SQUEEZE": "SqueezeOptions",
    "STRIDED_SLICE": "StridedSliceOptions",
    "SUB": "SubOptions",
    "SUM": "ReducerOptions",
    "SVDF": "SVDFOptions",
    "TRANSPOSE": "TransposeOptions",
    "TRANSPOSE_CONV": "TransposeConvOptions",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "UnidirectionalSequenceLSTMOptions",
}

_SKIP_METHODS = {"Init"}


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def snake_to_camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


@cache
def options_module(type_name: str) -> Any:
    """The generated ``tflite.<TypeName>`` module (class + builder functions)."""
    return importlib.import_module(f"tflite.{type_name}")


@cache
def options_fields(type_name: str) -> tuple[tuple[str, bool], ...]:
    """(CamelName, is_vector) for each field of an options table, in schema order."""
    cls = getattr(options_module(type_name), type_name)
    fields = []
    for name, fn in vars(cls).items():
        if name.startswith("_") or name in _SKIP_METHODS or not callable(fn):
            continue
        if name.startswith("GetRootAs") or name.endswith("BufferHasIdentifier"):
            continue
        if name.endswith(("AsNumpy", "Length", "IsNone")):
            continue
        params = list(inspect.signature(fn).parameters)
        is_vector = len(params) == 2 and hasattr(cls, name + "AsNumpy")
        if len(params) == 1 or is_vector:
            fields.append((name, is_vector))
    return tuple(fields)


def decode_options(type_name: str, table: Any) -> dict[str, Any]:
    """Read an options table into a dict. Vector fields become numpy arrays."""
    cls = getattr(options_module(type_name), type_name)
    obj = cls()
    obj.Init(table.Bytes, table.Pos)
    out: dict[str, Any] = {}
    for name, is_vector in options_fields(type_name):
        if is_vector:
            value = getattr(obj, name + "AsNumpy")()
            out[camel_to_snake(name)] = (
                np.array(value, copy=True) if isinstance(value, np.ndarray) else np.zeros(0, np.int32)
            )
        else:
            out[camel_to_snake(name)] = getattr(obj, name)()
    return out


def encode_options(builder: Any, type_name: str, options: dict[str, Any]) -> int:
    """Write a dict as an options table; returns the table offset."""
    mod = options_module(type_name)
    vectors = {}
    for name, is_vector in options_fields(type_name):
        key = camel_to_snake(name)
        if is_vector and key in options:
            arr = np.asarray(options[key])
            if arr.dtype.kind in "iu" and arr.dtype.itemsize != 4:
                arr = arr.astype(np.int32)
            vectors[name] = builder.CreateNumpyVector(arr)
    mod.Start(builder)
    for name, is_vector in options_fields(type_name):
        key = camel_to_snake(name)
        if key not in options:
            continue
        value = vectors[name] if is_vector else options[key]
        if isinstance(value, np.generic):
            value = value.item()
        getattr(mod, "Add" + name)(builder, value)
    return mod.End(builder)
