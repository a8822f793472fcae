"""PAD and PADV2, as TFLM's ``pad.cc`` (one kernel serves both).

The output is filled with the pad value and the input copied inside. The pad value is the third
input when present, else 0 for float32, int16 and int32 and the output zero point for int8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.registry import Kernel, OpContext, register

_MAX_DIMS = 5  # PadKernelMaxDimensionCount


@dataclass
class PadParams:
    """PAD / PADV2 parameters: ``interior``, where the input lands in the (batch,) + output shape
    (one slice per axis, batch first; the starts are the "before" paddings); ``out_shape`` and
    ``dtype`` of the output; ``default``, the pad value without a third input (the output zero
    point for int8, else 0)."""

    interior: tuple[slice, ...]
    out_shape: tuple[int, ...]
    dtype: np.dtype
    default: int | float


@register("PAD", "PADV2")
class Pad(Kernel):
    """PAD / PADV2 for float32, int8, int16 and int32 with constant non-negative int32 paddings.
    An int8 pad-value tensor must share the output's scale and zero point (TFLM checks it); a
    non-constant pad value is read per sample.

    Tests: 1-D to 5-D, asymmetric paddings, zero paddings, PAD default values per type (the int8
    output zero point), PADV2 constant values, and the model-level refusals TFLM makes too.
    """

    def prepare(self, ctx: OpContext) -> PadParams:
        x, paddings, out = ctx.input(0), ctx.input(1), ctx.output()
        value = ctx.input(2)
        if x.dtype != out.dtype or x.dtype not in (np.float32, np.int8, np.int16, np.int32):
            raise ctx.unsupported(f"{x.dtype} -> {out.dtype} padding is not supported")
        if len(x.shape) > _MAX_DIMS:
            raise ctx.unsupported(f"more than {_MAX_DIMS} dimensions")
        if paddings.data is None or paddings.dtype != np.int32:
            raise ctx.unsupported("paddings must be a constant int32 tensor")
        pads = paddings.data.reshape(-1)
        if pads.size != 2 * len(out.shape) or len(x.shape) != len(out.shape):
            raise ctx.unsupported("paddings must have one (before, after) pair per dimension")
        pads = pads.reshape(-1, 2).astype(int)
        if np.any(pads < 0):
            raise ctx.unsupported("negative paddings")
        if tuple(int(s + a + b) for s, (a, b) in zip(x.shape, pads)) != out.shape:
            raise ctx.unsupported("output shape does not match the paddings")
        if value is not None:
            if value.dtype != x.dtype or value.size != 1:
                raise ctx.unsupported("the pad value must be one element of the input type")
            if x.dtype == np.int8 and (value.zero_point != out.zero_point
                                       or np.float32(value.scale) != np.float32(out.scale)):
                raise ctx.unsupported("int8 pad value quantized unlike the output")
        default = out.zero_point if x.dtype == np.int8 else 0
        if x.dtype == np.int8 and not -128 <= default <= 127:
            raise ctx.unsupported("output zero point outside int8")
        interior = (slice(None),) + tuple(slice(a, a + s) for s, (a, _) in zip(x.shape, pads))
        return PadParams(interior, out.shape, x.dtype, default)

    def eval(self, params: PadParams, inputs, ctx):
        x = inputs[0]
        out = np.empty((x.shape[0],) + params.out_shape, params.dtype)
        if len(inputs) > 2 and inputs[2] is not None:
            value = inputs[2]
            out[...] = value.reshape((value.shape[0],) + (1,) * len(params.out_shape))
        else:
            out[...] = params.default
        out[params.interior] = x
        return [out]
