"""Tensor element types: the TFLite type names the IR keeps on each tensor, their numeric codes
(:class:`TensorType`, equal to the TFLite schema's) and the numpy dtype holding each."""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class TensorType(IntEnum):
    """TFLite ``TensorType``: the values option fields such as CAST's ``out_data_type`` carry."""

    FLOAT32 = 0
    FLOAT16 = 1
    INT32 = 2
    UINT8 = 3
    INT64 = 4
    STRING = 5
    BOOL = 6
    INT16 = 7
    COMPLEX64 = 8
    INT8 = 9
    FLOAT64 = 10
    COMPLEX128 = 11
    UINT64 = 12
    RESOURCE = 13
    VARIANT = 14
    UINT32 = 15
    UINT16 = 16
    INT4 = 17
    BFLOAT16 = 18


# Type name -> numpy dtype. INT4 is stored packed (two values a byte) as raw bytes; the types numpy
# has no dtype for are raw bytes (or uint16 words for BFLOAT16).
DTYPES: dict[str, np.dtype] = {
    "FLOAT32": np.dtype(np.float32),
    "FLOAT16": np.dtype(np.float16),
    "FLOAT64": np.dtype(np.float64),
    "INT8": np.dtype(np.int8),
    "UINT8": np.dtype(np.uint8),
    "INT16": np.dtype(np.int16),
    "UINT16": np.dtype(np.uint16),
    "INT32": np.dtype(np.int32),
    "UINT32": np.dtype(np.uint32),
    "INT64": np.dtype(np.int64),
    "UINT64": np.dtype(np.uint64),
    "BOOL": np.dtype(np.bool_),
    "COMPLEX64": np.dtype(np.complex64),
    "COMPLEX128": np.dtype(np.complex128),
    "INT4": np.dtype(np.uint8),
    "STRING": np.dtype(np.uint8),
    "RESOURCE": np.dtype(np.uint8),
    "VARIANT": np.dtype(np.uint8),
    "BFLOAT16": np.dtype(np.uint16),
}

_TYPE_OF: dict[np.dtype, str] = {}
for _name, _dtype in DTYPES.items():
    _TYPE_OF.setdefault(_dtype, _name)


def tensor_type_of(dtype: np.dtype) -> str:
    """The type name of a tensor holding ``dtype`` (the first name above with that dtype)."""
    return _TYPE_OF[np.dtype(dtype)]
