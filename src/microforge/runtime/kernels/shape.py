"""Shape-only operators: RESHAPE, SQUEEZE, EXPAND_DIMS.

TFLM implements these as a byte copy (or no-op when input and output share memory); the values and
quantization parameters pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.registry import Kernel, OpContext, register


@dataclass
class ReshapeParams:
    """RESHAPE / SQUEEZE / EXPAND_DIMS: ``shape``, the output tensor's static shape."""

    shape: tuple[int, ...]


def _check_expand_dims(ctx: OpContext) -> None:
    """``ExpandDimsPrepare``: a constant int32 axis with one element; the output is the input shape
    with a 1 inserted at that axis (negative axes count from the end). TFLM's Eval copies int8,
    int16 and float32 only."""
    x, axis_t, out = ctx.input(0), ctx.input(1), ctx.output()
    if x.dtype not in (np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.float32)):
        raise ctx.unsupported(f"EXPAND_DIMS of {x.dtype} (TFLM: int8, int16, float32)")
    if axis_t is None or not axis_t.is_constant or axis_t.dtype != np.int32 or axis_t.size < 1:
        raise ctx.unsupported("EXPAND_DIMS needs a constant int32 axis")
    if len(axis_t.shape) > 1:
        raise ctx.unsupported("EXPAND_DIMS axis must have one element")
    axis = int(np.asarray(axis_t.data).reshape(-1)[0])
    axis = axis + len(x.shape) + 1 if axis < 0 else axis
    if not 0 <= axis <= len(x.shape) or out.shape != x.shape[:axis] + (1,) + x.shape[axis:]:
        raise ctx.unsupported(f"output shape {out.shape} is not {x.shape} expanded at {axis}")


def _check_squeeze(ctx: OpContext) -> None:
    """``SqueezePrepare``: every listed axis (negative counts from the end) has size 1."""
    shape = ctx.input(0).shape
    for d in np.asarray(ctx.options.get("squeeze_dims", [])).reshape(-1):
        d = int(d) + len(shape) if int(d) < 0 else int(d)
        if not 0 <= d < len(shape) or shape[d] != 1:
            raise ctx.unsupported(f"cannot squeeze axis {d} of {shape}")


@register("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
class Reshape(Kernel):
    """Reinterpret the input bytes with the output tensor's static shape.

    As TFLM, RESHAPE takes the shape from the output tensor: the optional shape input (constant or
    not) and the ``new_shape`` option are not read. Input and output types must match and hold the
    same number of elements. SQUEEZE checks its ``squeeze_dims``; EXPAND_DIMS needs a constant
    axis and the matching output shape. Tests: RESHAPE with a constant shape tensor (with -1), a
    non-constant shape input, only the option; SQUEEZE of listed, negative and all unit axes;
    EXPAND_DIMS at every position; the RESHAPEs of the shared models.
    """

    def prepare(self, ctx: OpContext) -> ReshapeParams:
        x, out = ctx.input(0), ctx.output()
        if x.dtype != out.dtype:
            raise ctx.unsupported(f"type {x.dtype} -> {out.dtype}")
        if x.size != out.size or any(d < 0 for d in out.shape):
            raise ctx.unsupported(f"cannot reshape {x.shape} to {out.shape}")
        if ctx.op.opcode == "EXPAND_DIMS":
            _check_expand_dims(ctx)
        elif ctx.op.opcode == "SQUEEZE":
            _check_squeeze(ctx)
        return ReshapeParams(out.shape)

    def eval(self, params: ReshapeParams, inputs, ctx):
        x = inputs[0]
        return [x.reshape((x.shape[0],) + params.shape)]
