"""PRELU, as TFLM's ``prelu.cc`` / ``prelu_common.cc`` with ``reference_ops::BroadcastPrelu4DSlow``.

``out = x >= 0 ? x : x * alpha`` with ``alpha`` broadcast against ``x`` (numpy rules, at most four
dimensions), e.g. one alpha per channel of shape ``(1, 1, C)`` or ``(C,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier
from microforge.runtime.registry import Kernel, OpContext, register

_MAX_DIMS = 4  # BroadcastPrelu4DSlow extends every shape to 4-D


@dataclass
class PreluParams:
    """PRELU parameters (TFLM ``PreluParams``, as ``CalculatePreluParams`` computes them).

    ``kind``: "float" or "quant" (int8, or int16 with an int8 alpha). ``out_shape``: the output
    tensor's shape, the broadcast of the input's and alpha's. Quantized fields: ``zp_in`` /
    ``zp_alpha`` / ``zp_out`` zero points; ``m_identity``: ``QuantizeMultiplier`` (Q31 multiplier,
    shift) of ``s_in / s_out``, applied to ``x - zp_in`` where that is >= 0; ``m_alpha``: of
    ``s_in * s_alpha / s_out`` (double products of the float32 scales), applied to
    ``(x - zp_in) * (alpha - zp_alpha)`` (an int32 product) elsewhere; the result plus ``zp_out``
    is clamped to the output type's range ``[lo, hi]``. ``table``: int8 only, runtime-only: the
    output for every (input byte, alpha byte) pair, index ``x_u8 << 8 | alpha_u8``, computed with
    the fields above (one gather per element)."""

    kind: str
    out_shape: tuple[int, ...]
    zp_in: int = 0
    zp_alpha: int = 0
    zp_out: int = 0
    m_identity: tuple[int, int] = (0, 0)
    m_alpha: tuple[int, int] = (0, 0)
    lo: int = 0
    hi: int = 0
    table: np.ndarray | None = None


def _aligned(a: np.ndarray, rank: int) -> np.ndarray:
    """A batched array ``(B,) + S`` as ``(B,) + (1, ...) + S`` with ``rank`` dims after the batch."""
    return a.reshape(a.shape[:1] + (1,) * (rank - a.ndim + 1) + a.shape[1:])


@register("PRELU")
class Prelu(Kernel):
    """PRELU as TFLM's ``PreluEval``.

    * float32: ``x >= 0.0f ? x : x * alpha`` (float32 product; -0.0 passes through, NaN times
      alpha stays NaN).
    * int8 (alpha int8) and int16 (alpha int8, as TFLM's Prepare requires): ``v = x - zp_in``;
      ``v >= 0``: ``MultiplyByQuantizedMultiplier(v, m_identity)``, else
      ``MultiplyByQuantizedMultiplier(v * (alpha - zp_alpha), m_alpha)``; plus ``zp_out``, clamped
      to the type's range. Per-channel alpha quantization is not used: TFLM reads alpha's first
      (only) scale and zero point.

    Tests: float and int8 (and int16) against tflite-micro: per-channel ``(1, 1, C)`` and ``(C,)``
    alphas, a scalar alpha, a per-pixel alpha, negative and above-one alphas, random scales and
    zero points.
    """

    def prepare(self, ctx: OpContext) -> PreluParams:
        x, alpha, out = ctx.input(0), ctx.input(1), ctx.output()
        if alpha is None:
            raise ctx.unsupported("PRELU needs an alpha input")
        if max(len(x.shape), len(alpha.shape), len(out.shape)) > _MAX_DIMS:
            raise ctx.unsupported(f"more than {_MAX_DIMS} dimensions")
        try:
            shape = tuple(np.broadcast_shapes(x.shape, alpha.shape))
        except ValueError:
            raise ctx.unsupported(f"alpha {alpha.shape} does not broadcast to input {x.shape}") from None
        if shape != tuple(out.shape):
            raise ctx.unsupported(f"output shape {out.shape} is not the broadcast shape {shape}")
        if x.dtype == out.dtype == alpha.dtype == np.float32:
            return PreluParams("float", shape)
        if x.dtype != out.dtype or x.dtype not in (np.int8, np.int16) or alpha.dtype != np.int8:
            raise ctx.unsupported(f"{x.dtype} input, {alpha.dtype} alpha -> {out.dtype} is not "
                                  "supported (float32, int8 or int16 with an int8 alpha)")
        if not all(t.quant is not None and t.quant.is_quantized for t in (x, alpha, out)):
            raise ctx.unsupported("int8 / int16 tensors need quantization parameters")
        s_in, s_alpha, s_out = (float(np.float32(t.scale)) for t in (x, alpha, out))
        info = np.iinfo(out.dtype)
        params = PreluParams("quant", shape, x.zero_point, alpha.zero_point, out.zero_point,
                             quantize_multiplier(s_in / s_out),
                             quantize_multiplier(s_in * s_alpha / s_out), int(info.min),
                             int(info.max))
        if x.dtype == np.int8:
            values = np.arange(256, dtype=np.uint8).view(np.int8)
            params.table = _quantized(params, values[:, None], values[None, :]).reshape(-1)
        return params

    def eval(self, params: PreluParams, inputs, ctx):
        rank = len(params.out_shape)
        x, alpha = _aligned(inputs[0], rank), _aligned(inputs[1], rank)
        batch = (max(x.shape[0], alpha.shape[0]),)
        if params.kind == "float":
            with np.errstate(all="ignore"):
                out = np.where(x >= np.float32(0), x, x * alpha)
            return [np.ascontiguousarray(np.broadcast_to(out, batch + params.out_shape),
                                         np.float32)]
        if params.table is not None:
            index = (x.view(np.uint8).astype(np.intp) << 8) | alpha.view(np.uint8)
            out = params.table[index]
        else:
            out = _quantized(params, x, alpha)
        return [np.ascontiguousarray(np.broadcast_to(out, batch + params.out_shape))]


def _quantized(params: PreluParams, x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The integer PRELU of ``x`` and ``alpha`` (broadcast), in ``x``'s dtype."""
    v = x.astype(np.int64) - params.zp_in
    a = alpha.astype(np.int64) - params.zp_alpha
    positive = multiply_by_quantized_multiplier(v, *params.m_identity)
    negative = multiply_by_quantized_multiplier(v * a, *params.m_alpha)
    out = np.clip(np.where(v >= 0, positive, negative) + params.zp_out, params.lo, params.hi)
    return out.astype(x.dtype)
