"""CONCATENATION as TFLM's ``concatenation.cc``: a byte copy of each input's slice in turn."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.ir import Activation
from microforge.runtime.registry import Kernel, OpContext, register

_TYPES = (np.float32, np.int8, np.int16, np.int32, np.int64, np.bool_)
_MAX_INPUTS = 10
_MAX_DIMS = 6


@dataclass
class ConcatenationParams:
    """CONCATENATION: ``axis``, the (non-negative) tensor axis joined along."""

    axis: int


@register("CONCATENATION")
class Concatenation(Kernel):
    """Join the inputs along ``axis`` (negative counts from the end, as TFLM's
    ``CalculatePositiveAxis``). Values are copied unchanged: TFLM requires int8 inputs to carry the
    output's exact scale and zero point and int16 zero points to be 0 (int16 scales are not
    compared, and neither is any other type's quantization), at most 10 inputs of rank <= 6, and
    no fused activation; microforge rejects the same models. float32, int8, int16, int32, int64,
    bool.

    Constant inputs (batch axis 1) are broadcast to the batch. Tests: every axis and negative axes,
    2-4 inputs, each dtype, constant inputs mixed with activations, the audio preprocessor's op, and
    rejection of mismatched int8 quantization.
    """

    def prepare(self, ctx: OpContext) -> ConcatenationParams:
        ins, out = ctx.inputs, ctx.output()
        if any(t is None for t in ins) or not ins:
            raise ctx.unsupported("missing input")
        if len(ins) > _MAX_INPUTS:
            raise ctx.unsupported(f"{len(ins)} inputs (TFLM allows {_MAX_INPUTS})")
        if int(ctx.options.get("fused_activation_function") or Activation.NONE) != Activation.NONE:
            raise ctx.unsupported("fused activation is not allowed")
        if out.dtype not in [np.dtype(t) for t in _TYPES]:
            raise ctx.unsupported(f"type {out.dtype} is not supported")
        rank = len(out.shape)
        axis = int(ctx.options.get("axis", 0))
        axis = axis + rank if axis < 0 else axis
        if not 0 <= axis < rank:
            raise ctx.unsupported(f"axis {axis} out of range for rank {rank}")
        for t in ins:
            if t.dtype != out.dtype:
                raise ctx.unsupported(f"input type {t.dtype} differs from output {out.dtype}")
            if len(t.shape) > _MAX_DIMS or len(t.shape) != rank:
                raise ctx.unsupported(f"input rank {len(t.shape)} (output rank {rank})")
            if any(t.shape[i] != out.shape[i] for i in range(rank) if i != axis):
                raise ctx.unsupported(f"input shape {t.shape} does not fit output {out.shape}")
            if out.dtype == np.int8 and (
                np.float32(t.scale) != np.float32(out.scale) or t.zero_point != out.zero_point
            ):
                raise ctx.unsupported("int8 inputs need the output's scale and zero point")
            if out.dtype == np.int16 and t.zero_point != 0:
                raise ctx.unsupported("int16 inputs need zero point 0")
        if out.dtype == np.int16 and out.zero_point != 0:
            raise ctx.unsupported("int16 output needs zero point 0")
        if sum(t.shape[axis] for t in ins) != out.shape[axis]:
            raise ctx.unsupported(f"input sizes along axis {axis} do not add up to {out.shape}")
        return ConcatenationParams(axis)

    def eval(self, params: ConcatenationParams, inputs, ctx):
        batch = max(x.shape[0] for x in inputs)
        parts = [np.broadcast_to(x, (batch,) + x.shape[1:]) for x in inputs]
        return [np.concatenate(parts, axis=params.axis + 1)]
