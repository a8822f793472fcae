"""Shape-only operators: RESHAPE, SQUEEZE, EXPAND_DIMS.

TFLM implements these as a byte copy (or no-op when input and output share memory); the values and
quantization parameters pass through unchanged.
"""

from __future__ import annotations

import numpy as np

from microforge.runtime.registry import Kernel, OpContext, register


@register("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
class Reshape(Kernel):
    """Reinterpret the input bytes with the output tensor's static shape."""

    def prepare(self, ctx: OpContext) -> tuple[int, ...]:
        out = ctx.output()
        if ctx.input(0).size != out.size:
            raise ctx.unsupported(f"cannot reshape {ctx.input(0).shape} to {out.shape}")
        return out.shape

    def eval(self, params, inputs, ctx):
        x = inputs[0]
        return [x.reshape((x.shape[0],) + params)]
