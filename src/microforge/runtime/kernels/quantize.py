"""QUANTIZE and DEQUANTIZE, as TFLM's ``quantize_common.cc`` / ``dequantize_common.cc`` compute them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge import fixedpoint as fp
from microforge.runtime.registry import Kernel, OpContext, register

_F32 = np.float32

# (input, output) pairs TFLM's QUANTIZE evaluates with Requantize.
_REQUANTIZE = {
    ("int8", "int8"), ("int8", "uint8"), ("int8", "int16"), ("int8", "int32"),
    ("uint8", "int8"), ("int16", "int8"), ("int16", "int16"), ("int16", "int32"),
    ("int32", "int8"), ("int32", "int16"),
}


@dataclass
class AffineQuantizeParams:
    """float32 -> int8 / int16 QUANTIZE (TFLM ``AffineQuantize`` with the output's
    ``QuantizationParams``): the output ``scale`` (float32), ``zero_point`` and ``dtype``."""

    scale: np.float32
    zero_point: int
    dtype: np.dtype


@dataclass
class RequantizeParams:
    """Integer -> integer QUANTIZE (TFLM ``OpDataQuantizeReference``, as ``PrepareQuantizeReference``
    computes it): Q31 ``multiplier`` and ``shift`` of ``double(s_in) / double(s_out)``, the input
    and output zero points, the output ``dtype``."""

    multiplier: int
    shift: int
    input_zero_point: int
    output_zero_point: int
    dtype: np.dtype


@dataclass
class DequantizeParams:
    """DEQUANTIZE (TFLM ``DequantizeOpData``): the input's ``scale`` (a float32 value, applied in
    double) and ``zero_point``."""

    scale: float
    zero_point: int


def float_to_int32_x86(x: np.ndarray) -> np.ndarray:
    """``static_cast<int32_t>`` of float32 values as x86-64 computes it (cvttss2si): truncation,
    and INT32_MIN for NaN and anything outside the int32 range."""
    x = np.asarray(x, dtype=_F32)
    with np.errstate(invalid="ignore"):
        inside = (x >= _F32(-(2.0**31))) & (x < _F32(2.0**31))
        return np.where(inside, np.trunc(np.where(inside, x, 0)).astype(np.int64), fp.INT32_MIN)


def affine_quantize(x: np.ndarray, scale: np.float32, zero_point: int, dtype: np.dtype) -> np.ndarray:
    """``reference_ops::AffineQuantize``: roundf(x / scale) in float32, to int32, + zero point
    (wrapping), clamped to the output type."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        quotient = np.asarray(x, dtype=_F32) / scale
        rounded = np.trunc(quotient.astype(np.float64) + np.copysign(0.5, quotient))
    unclamped = fp.wrap_int32(float_to_int32_x86(rounded.astype(_F32)) + zero_point)
    info = np.iinfo(dtype)
    return np.clip(unclamped, info.min, info.max).astype(dtype)


@register("QUANTIZE")
class Quantize(Kernel):
    """TFLM QUANTIZE.

    float32 -> int8/int16: ``AffineQuantize`` — ``roundf(x / float(scale))`` in float32 (halves away
    from zero), converted to int32 as x86 does (NaN, +-inf and out-of-range values become INT32_MIN),
    plus the zero point with int32 wrap-around, clamped.

    Integer -> integer (int8 -> int8/uint8/int16/int32, uint8 -> int8, int16 -> int8/int16/int32,
    int32 -> int8/int16): ``Requantize`` — ``MultiplyByQuantizedMultiplier(x - zp_in)`` with the
    multiplier of ``double(s_in) / double(s_out)`` (double rounding), plus the output zero point,
    clamped (int32 outputs wrap like the C int32 addition).

    Tests: oracle parity for every pair above, scale ratios above and below one, special floats
    and values beyond the int32 range, the QUANTIZE ops of keyword_scrambled.
    """

    def prepare(self, ctx: OpContext) -> AffineQuantizeParams | RequantizeParams:
        x, out = ctx.input(0), ctx.output()
        if out.quant is None or out.quant.scale.size != 1:
            raise ctx.unsupported("QUANTIZE output needs exactly one scale")
        pair = (np.dtype(x.dtype).name, np.dtype(out.dtype).name)
        if pair[0] == "float32":
            if pair[1] not in ("int8", "int16"):
                raise ctx.unsupported(f"float32 -> {pair[1]} is not supported")
            return AffineQuantizeParams(_F32(out.scale), out.zero_point, np.dtype(out.dtype))
        if pair not in _REQUANTIZE:
            raise ctx.unsupported(f"{pair[0]} -> {pair[1]} is not supported")
        if x.quant is None or not x.quant.is_quantized:
            raise ctx.unsupported("integer QUANTIZE input needs a scale")
        multiplier, shift = fp.quantize_multiplier(float(_F32(x.scale)) / float(_F32(out.scale)))
        return RequantizeParams(multiplier, shift, x.zero_point, out.zero_point, np.dtype(out.dtype))

    def eval(self, params, inputs, ctx):
        x = inputs[0]
        if isinstance(params, AffineQuantizeParams):
            return [affine_quantize(x, params.scale, params.zero_point, params.dtype)]
        centered = fp.wrap_int32(x.astype(np.int64) - params.input_zero_point)
        scaled = fp.multiply_by_quantized_multiplier(centered, params.multiplier, params.shift)
        unclamped = fp.wrap_int32(scaled + params.output_zero_point)
        info = np.iinfo(params.dtype)
        return [np.clip(unclamped, info.min, info.max).astype(params.dtype)]


@register("DEQUANTIZE")
class Dequantize(Kernel):
    """TFLM DEQUANTIZE for int8, int16 and uint8 inputs: ``float(double(scale) * (x - zp))`` with the
    tensor's (first) scale and zero point, computed in double and rounded once to float32.

    Tests: oracle parity for each input type over the whole input range.
    """

    def prepare(self, ctx: OpContext) -> DequantizeParams:
        x, out = ctx.input(0), ctx.output()
        if x.dtype not in (np.int8, np.int16, np.uint8) or out.dtype != np.float32:
            raise ctx.unsupported(f"{x.dtype} -> {out.dtype} is not supported")
        if x.quant is None or not x.quant.is_quantized:
            raise ctx.unsupported("DEQUANTIZE input needs a scale")
        return DequantizeParams(float(_F32(x.scale)), x.zero_point)

    def eval(self, params, inputs, ctx):
        centered = inputs[0].astype(np.float64) - params.zero_point
        return [(params.scale * centered).astype(_F32)]
