"""Pointwise activations: RELU, RELU6, LEAKY_RELU, HARD_SWISH (TFLM ``activations.cc``,
``leaky_relu.cc``, ``hard_swish.cc``). Every output element depends only on its input element.

Real multipliers are computed in double precision from the float32 scales. Older TFLM sources
round the scale quotients to float32 first (``static_cast<double>(a / b)``); the tflite-micro build
used as the oracle computes them in double (measured: scale pairs where the two differ are in the
tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from microforge.fixedpoint import (
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    round_half_away,
    rounding_divide_by_pot_int16,
    saturating_rounding_doubling_high_mul_int16,
    wrap_int16,
)
from microforge.ir import Tensor
from microforge.runtime.registry import Kernel, OpContext, register


@dataclass
class PointwiseParams:
    """RELU / RELU6 / LEAKY_RELU parameters (TFLM ``ReluOpData`` / ``Relu6OpData`` /
    ``LeakyReluOpData``, computed as their Prepare does).

    ``kind``: "float" or "quant" (int8 / int16). Quantized fields: ``zp_in`` / ``zp_out`` zero
    points; ``lo`` / ``hi`` the output clamp in the output's integer domain (RELU6: the input's
    domain, ``[zp_in, q(6)]``); ``m`` the identity multiplier ``s_in / s_out`` and ``m_alpha`` the
    alpha multiplier ``s_in * alpha / s_out`` (LEAKY_RELU; may be negative), each a
    ``QuantizeMultiplier`` (Q31 multiplier, shift) pair. ``alpha``: LEAKY_RELU's float32 alpha.
    ``table``: int8 inputs only, the output for every input byte (index = the byte as uint8), a
    runtime lookup computed from the fields above."""

    kind: str
    zp_in: int = 0
    zp_out: int = 0
    lo: int = 0
    hi: int = 0
    m: tuple[int, int] = (0, 0)
    m_alpha: tuple[int, int] = (0, 0)
    alpha: float = 0.0
    table: np.ndarray | None = None


class Pointwise(Kernel):
    """Base class: subclasses compute their constants in ``setup`` and the function in ``apply``.
    int8 inputs run through a 256-entry table of ``apply``'s own results (one gather per element)."""

    def setup(self, ctx: OpContext) -> Any:
        raise NotImplementedError

    def apply(self, params: Any, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    uses_output_quant = True

    def prepare(self, ctx: OpContext) -> PointwiseParams | HardSwishParams:
        params = self.setup(ctx)
        if params.kind == "quant":
            needed = [ctx.input(0)] + ([ctx.output()] if self.uses_output_quant else [])
            if not all(t.quant is not None and t.quant.is_quantized for t in needed):
                raise ctx.unsupported("int8 / int16 tensors need quantization parameters")
        if ctx.input(0).dtype == np.int8:
            params.table = self.apply(params, np.arange(256, dtype=np.uint8).view(np.int8))
        return params

    def eval(self, params: Any, inputs, ctx):
        x = inputs[0]
        if params.table is not None:
            return [params.table[x.view(np.uint8)]]
        return [self.apply(params, x)]


def _check_types(ctx: OpContext, dtypes: tuple[type, ...]) -> tuple[Tensor, Tensor]:
    x, y = ctx.input(0), ctx.output()
    if x.dtype != y.dtype or x.dtype not in [np.dtype(d) for d in dtypes]:
        raise ctx.unsupported(f"{x.dtype} -> {y.dtype} is not supported")
    return x, y


def _f32(t: Tensor) -> np.float32:
    return np.float32(t.scale)


@register("RELU")
class Relu(Pointwise):
    """RELU as TFLM's ``ReluFloat`` / ``ReluQuantized``.

    * float32: ``x < 0 ? 0 : x`` (-0.0 and NaN pass through).
    * int8 / int16: requantizing ReLU: ``zp_out + MultiplyByQuantizedMultiplier(x - zp_in, m)``
      with ``m`` from ``s_in / s_out``, clamped to ``[max(qmin, zp_out), qmax]``.
      int16 needs zero points 0.

    Tests: each dtype, random scales (multiplier above and below one), zero points.
    """

    def setup(self, ctx: OpContext) -> PointwiseParams:
        x, y = _check_types(ctx, (np.float32, np.int8, np.int16))
        if x.dtype == np.float32:
            return PointwiseParams("float")
        if x.dtype == np.int16 and (x.zero_point or y.zero_point):
            raise ctx.unsupported("int16 RELU needs zero points 0")
        info = np.iinfo(x.dtype)
        return PointwiseParams("quant", x.zero_point, y.zero_point, max(int(info.min), y.zero_point),
                      int(info.max), quantize_multiplier(float(_f32(x)) / float(_f32(y))))

    def apply(self, params: PointwiseParams, x: np.ndarray) -> np.ndarray:
        if params.kind == "float":
            return np.where(x < 0, np.float32(0), x)
        v = multiply_by_quantized_multiplier(x.astype(np.int64) - params.zp_in, *params.m)
        return np.clip(v + params.zp_out, params.lo, params.hi).astype(x.dtype)


@register("RELU6")
class Relu6(Pointwise):
    """RELU6 as TFLM's ``Relu6Float`` / ``Relu6Quantized``.

    * float32: ``x > 6 ? 6 : (x < 0 ? 0 : x)``.
    * int8 / int16: no requantization: clamp to ``[zp_in, q(6)]`` in the input's domain with
      ``q(6) = clamp(round(6 / s_in) + zp_in)`` (float32 quotient); the output's quantization is
      ignored, as TFLM does.

    Tests: each dtype, several input scales and zero points.
    """

    uses_output_quant = False

    def setup(self, ctx: OpContext) -> PointwiseParams:
        x, _ = _check_types(ctx, (np.float32, np.int8, np.int16))
        if x.dtype == np.float32:
            return PointwiseParams("float")
        info = np.iinfo(x.dtype)
        six = round_half_away(float(np.float32(6.0) / _f32(x))) + x.zero_point
        six = min(max(six, int(info.min)), int(info.max))
        return PointwiseParams("quant", lo=x.zero_point, hi=six)

    def apply(self, params: PointwiseParams, x: np.ndarray) -> np.ndarray:
        if params.kind == "float":
            lo, hi = np.float32(0), np.float32(6)
        else:
            lo, hi = x.dtype.type(params.lo), x.dtype.type(params.hi)
        return np.where(x > hi, hi, np.where(x < lo, lo, x))


@register("LEAKY_RELU")
class LeakyRelu(Pointwise):
    """LEAKY_RELU as TFLM's ``leaky_relu.cc``.

    * float32: ``x > 0 ? x : x * alpha`` (float32 product).
    * int8 / int16: ``d = x - zp_in``; ``d >= 0``: identity multiplier ``s_in / s_out``, else alpha
      multiplier ``s_in * alpha / s_out`` (quantized with ``QuantizeMultiplier``; a negative
      alpha multiplier is applied as ``-(d * |m|)``), plus
      ``zp_out``, clamped to the type range.

    Tests: each dtype; alpha 0.2, 0.01, 1.5 and negative alpha; random scales and zero points.
    """

    def setup(self, ctx: OpContext) -> PointwiseParams:
        x, y = _check_types(ctx, (np.float32, np.int8, np.int16))
        alpha = float(np.float32(ctx.options.get("alpha", 0.0)))
        if x.dtype == np.float32:
            return PointwiseParams("float", alpha=alpha)
        info = np.iinfo(x.dtype)
        return PointwiseParams("quant", x.zero_point, y.zero_point, int(info.min), int(info.max),
                      m=quantize_multiplier(float(_f32(x)) / float(_f32(y))),
                      m_alpha=quantize_multiplier(float(_f32(x)) * float(alpha) / float(_f32(y))),
                      alpha=alpha)

    def apply(self, params: PointwiseParams, x: np.ndarray) -> np.ndarray:
        if params.kind == "float":
            with np.errstate(all="ignore"):
                return np.where(x > 0, x, x * np.float32(params.alpha))
        d = x.astype(np.int64) - params.zp_in
        q_alpha, shift_alpha = params.m_alpha
        neg = multiply_by_quantized_multiplier(d, abs(q_alpha), shift_alpha)
        neg = -neg if q_alpha < 0 else neg
        v = np.where(d >= 0, multiply_by_quantized_multiplier(d, *params.m), neg) + params.zp_out
        return np.clip(v, params.lo, params.hi).astype(x.dtype)


@dataclass
class HardSwishParams:
    """HARD_SWISH parameters (TFLM ``HardSwishParams``, as ``HardSwishPrepare`` computes them).

    ``kind``: "float" or "quant" (int8). ``zp_in`` / ``zp_out``: zero points; ``out_mult`` /
    ``out_exp``: the int16 (Q15) multiplier and exponent of ``hires / s_out``; ``relu_mult`` /
    ``relu_exp``: those of ``hires / (3 / 32768)`` (``hires = s_in / 128``). ``table``: the output
    for every int8 input byte (index = the byte as uint8), a runtime lookup."""

    kind: str
    zp_in: int = 0
    zp_out: int = 0
    out_mult: int = 0
    out_exp: int = 0
    relu_mult: int = 0
    relu_exp: int = 0
    table: np.ndarray | None = None


def _int16_multiplier(real: float) -> tuple[int, int]:
    """``QuantizeMultiplier`` followed by ``DownScaleInt32ToInt16Multiplier``."""
    q, exp = quantize_multiplier(real)
    q16 = (1 << 15) - 1 if q >= (1 << 31) - 1 - (1 << 15) else (q + (1 << 15)) >> 16
    return q16, exp


def _saturating_left_shift(v: np.ndarray, amount: int) -> np.ndarray:
    return np.clip(v * (1 << amount), -(1 << 15), (1 << 15) - 1)


def _saturating_doubling_high_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The non-rounding int16 doubling high multiply of ``reference/hard_swish.h`` (C division
    truncates toward zero)."""
    ab = a * b
    high = np.where(ab >= 0, ab >> 15, -((-ab) >> 15))
    return np.where((a == -(1 << 15)) & (b == -(1 << 15)), (1 << 15) - 1, wrap_int16(high))


@register("HARD_SWISH")
class HardSwish(Pointwise):
    """HARD_SWISH as TFLM's ``hard_swish.cc`` (int8 and float32; TFLM has no int16 variant).

    * float32: ``x * min(6, max(0, x + 3)) / 6`` evaluated left to right in float32.
    * int8: the reference integer algorithm in int16 fixed point: the input on a "hires" scale
      (``(x - zp) * 128``), a rounding doubling high multiply by the output multiplier, the
      "reluish" value (saturating left shifts for a positive exponent, rounding right shift for a
      negative one) mapped to [0, 1], a non-rounding doubling high multiply of the two, a rounding
      right shift by the output exponent, plus the output zero point (int16 wrap), clamped to int8.
      Multipliers ``hires / s_out`` and ``hires / (3 / 32768)`` (``hires = s_in / 128`` and
      ``3 / 32768`` are float32 values, the quotients double) are reduced to int16; the output
      exponent must be <= 0 (TFLM rejects the model otherwise).

    Tests: int8 with reluish exponents both positive and negative, several zero points; float32
    over [-8, 8] plus special values.
    """

    def setup(self, ctx: OpContext) -> HardSwishParams:
        x, y = _check_types(ctx, (np.float32, np.int8))
        if x.dtype == np.float32:
            return HardSwishParams("float")
        hires = np.float32(1.0 / 128.0) * _f32(x)
        out_mult, out_exp = _int16_multiplier(float(hires) / float(_f32(y)))
        if out_exp > 0:
            raise ctx.unsupported("HARD_SWISH output multiplier exponent must be <= 0")
        relu_mult, relu_exp = _int16_multiplier(float(hires) / float(np.float32(3.0 / 32768.0)))
        return HardSwishParams("quant", x.zero_point, y.zero_point, out_mult, out_exp,
                               relu_mult, relu_exp)

    def apply(self, params: HardSwishParams, x: np.ndarray) -> np.ndarray:
        if params.kind == "float":
            with np.errstate(all="ignore"):
                t = x + np.float32(3)
                t = np.where(np.float32(0) < t, t, np.float32(0))
                t = np.where(t < np.float32(6), t, np.float32(6))
                return (x * t / np.float32(6)).astype(np.float32)
        p = params
        hires = wrap_int16(wrap_int16(x.astype(np.int64) - p.zp_in) * 128)
        pre_out = saturating_rounding_doubling_high_mul_int16(hires, p.out_mult)
        relu = hires
        if p.relu_exp > 0:
            relu = _saturating_left_shift(relu, p.relu_exp - 1)
        relu = saturating_rounding_doubling_high_mul_int16(relu, p.relu_mult)
        if p.relu_exp > 0:
            relu = _saturating_left_shift(relu, 1)
        elif p.relu_exp < 0:
            relu = rounding_divide_by_pot_int16(relu, -p.relu_exp)
        relu = (relu + (1 << 15)) >> 1
        pre = _saturating_doubling_high_mul(relu, pre_out)
        out = wrap_int16(rounding_divide_by_pot_int16(pre, -p.out_exp) + p.zp_out)
        return np.clip(out, -128, 127).astype(np.int8)
