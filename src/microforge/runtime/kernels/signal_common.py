"""Shared pieces of the TFLM signal-library kernels (``signal/micro/kernels``): custom options,
bit counting, tensor checks.

TFLM's signal kernels read their FlexBuffers options by POSITION in the map (``FlexbufferWrapper::
ElementAsInt32(i)``), and a FlexBuffers map stores its keys sorted. :func:`options` checks that the
key at every position TFLM reads is the one it means, so a map with missing or extra keys is
refused rather than read shifted.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
from flatbuffers import flexbuffers

from microforge.ir import Tensor
from microforge.runtime.registry import OpContext

# TensorType codes of the "T" option (schema.fbs)
TENSOR_TYPES = {0: np.dtype(np.float32), 2: np.dtype(np.int32), 7: np.dtype(np.int16)}


def options(ctx: OpContext, *keys: str) -> dict[str, Any]:
    """The custom options as a dict, checked so that ``keys[i]`` is the i-th key of the map (the
    position TFLM reads it from). ``keys`` lists the keys TFLM's ``Init`` reads, in its order."""
    raw = ctx.op.custom_options
    try:
        opts = flexbuffers.Loads(bytes(raw)) if raw else {}
    except (ValueError, IndexError, TypeError, KeyError, struct.error) as exc:
        raise ctx.unsupported(f"unreadable custom options ({exc})") from None
    if not isinstance(opts, dict):
        raise ctx.unsupported("custom options are not a FlexBuffers map")
    order = sorted(opts, key=lambda k: k.encode())
    if order[: len(keys)] != list(keys):
        raise ctx.unsupported(f"custom options {order} do not hold the keys {list(keys)}")
    return opts


def msb32(x: np.ndarray) -> np.ndarray:
    """``MostSignificantBit32`` of the GCC build: the bit length of x, and 32 for x == 0.
    x holds uint32 values (any integer dtype; only the low 32 bits are used)."""
    x = np.asarray(x)
    if x.dtype != np.uint32:
        x = (x.astype(np.int64) & 0xFFFFFFFF).astype(np.uint32)
    # float64 holds every uint32 exactly, so frexp's exponent is the bit length
    return np.where(x == 0, 32, np.frexp(x.astype(np.float64))[1]).astype(np.int64)


def check(ctx: OpContext, ok: bool, why: str) -> None:
    """Raise the operator's unsupported error unless ``ok`` (TFLM's prepare-time checks)."""
    if not ok:
        raise ctx.unsupported(why)


def check_types(ctx: OpContext, tensors: list[Tensor | None], dtypes: list[type], what: str) -> None:
    """Every tensor present with exactly the expected dtype (``TF_LITE_ENSURE_TYPES_EQ``)."""
    for i, (t, d) in enumerate(zip(tensors, dtypes)):
        if t is None:
            raise ctx.unsupported(f"{what} {i} is missing")
        if t.dtype != np.dtype(d):
            raise ctx.unsupported(f"{what} {i} must be {np.dtype(d).name}, got {t.dtype.name}")


def check_io(ctx: OpContext, in_types: list[type], out_types: list[type]) -> None:
    """Input and output counts and dtypes."""
    check(ctx, len(ctx.op.inputs) == len(in_types), f"expects {len(in_types)} inputs")
    check(ctx, len(ctx.op.outputs) == len(out_types), f"expects {len(out_types)} outputs")
    check_types(ctx, ctx.inputs, in_types, "input")
    check_types(ctx, ctx.outputs, out_types, "output")


def constant(ctx: OpContext, i: int) -> np.ndarray:
    """The data of constant input ``i``; non-constant tables are not supported."""
    t = ctx.input(i)
    if t is None or t.data is None:
        raise ctx.unsupported(f"input {i} must be a constant tensor")
    return np.asarray(t.data)


def rows(x: np.ndarray, width: int) -> np.ndarray:
    """A batch ``(B,) + S`` viewed as ``(B, outer, width)`` rows of its innermost dimension."""
    return x.reshape(x.shape[0], -1, width)
