"""SOFTMAX, as TFLM's ``softmax.cc`` / ``softmax_common.cc`` and ``reference_ops::Softmax`` compute it.

The softmax runs over the last axis; every other axis is an independent row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from microforge import fixedpoint as fp
from microforge.runtime.kernels.common import expf
from microforge.runtime.registry import Kernel, OpContext, register

_F32 = np.float32
_SCALED_DIFF_INTEGER_BITS = 5
_ACCUMULATION_INTEGER_BITS = 12
_INT16_RANGE = 65535  # int16 max - int16 min


@dataclass
class SoftmaxInt8Params:
    """int8-input SOFTMAX (TFLM ``SoftmaxParams`` from ``CalculateSoftmaxParams``: input
    multiplier, left shift and ``diff_min``, here applied in prepare to every possible difference).

    For ``d = input - row max`` in [-255, 0], at index ``d + 255``: ``exp``, the Q0.31
    ``exp(beta * s_in * d)``; ``summand``, the same rescaled to the Q12.19 sum (0 where
    ``d < diff_min``); ``valid``, ``d >= diff_min``. ``out_bits`` / ``dtype``: the output type
    (int8 or int16) and its width."""

    exp: np.ndarray
    summand: np.ndarray
    valid: np.ndarray
    out_bits: int
    dtype: np.dtype


@dataclass
class SoftmaxInt16Params:
    """int16 SOFTMAX (TFLM ``SoftmaxParams`` of ``SoftmaxInt16``): ``exp``, the Q0.15 exp LUT value
    for ``d = row max - input`` in [0, 65535] (index d, input multiplier applied);
    ``reciprocal_lut``, TFLM's 513-entry ``1 / (1 + x)`` table."""

    exp: np.ndarray
    reciprocal_lut: np.ndarray


@dataclass
class SoftmaxFloatParams:
    """float32 SOFTMAX: ``beta`` (float32)."""

    beta: np.float32


def roundf(x: np.ndarray) -> np.ndarray:
    """C ``roundf`` on float32 values (halves away from zero), exact via float64."""
    x64 = np.asarray(x, dtype=np.float64)
    return np.trunc(x64 + np.copysign(0.5, x64)).astype(_F32)


def lut_populate_int16(
    fn: Callable[[np.ndarray], np.ndarray], input_scale: float, input_zero_point: int,
    output_scale: float, output_zero_point: int,
) -> np.ndarray:
    """TFLM ``LUTPopulateInt16<float>``: 512 segments over the int16 input range, each sample biased
    by half the interpolation error at the segment midpoint, plus the end point; float32 arithmetic
    throughout, as in the C++."""
    s_in, s_out = _F32(input_scale), _F32(output_scale)
    input_min = s_in * _F32(-32768 - input_zero_point)
    input_max = s_in * _F32(32767 - input_zero_point)
    output_min = s_out * _F32(-32768 - output_zero_point)
    output_max = s_out * _F32(32767 - output_zero_point)
    step = (input_max - input_min) / _F32(512)
    half_step = step / _F32(2)
    scaling_inv = _F32(65536) / (output_max - output_min)
    i = np.arange(512, dtype=_F32)
    start = input_min + i * step
    val = fn(start)
    val_mid = fn(start + half_step)
    val_next = fn(input_min + (i + _F32(1)) * step)
    sample = roundf(val * scaling_inv)
    interpolated = roundf((val_next * scaling_inv + sample) / _F32(2))
    error = interpolated - roundf(val_mid * scaling_inv)
    bias = roundf(error / _F32(2))
    last = roundf(fn(np.array([input_max], _F32)) * scaling_inv)
    table = np.concatenate([sample - bias, last])
    return np.clip(table, -32768, 32767).astype(np.int64)


def lut_lookup_int16(value: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """TFLM ``LUTLookup(int16)``: linear interpolation between entries 256 + (v >> 7) and the next."""
    value = np.asarray(value, dtype=np.int64)
    index = 256 + (value >> 7)
    base = lut[index]
    slope = fp.wrap_int16(lut[index + 1] - base)
    return fp.wrap_int16(base + ((slope * (value & 0x7F) + 64) >> 7))


def _exp_lut() -> np.ndarray:
    return lut_populate_int16(expf, float(_F32(10.0) / _F32(_INT16_RANGE)), 32767,
                              float(_F32(2.0) / _F32(_INT16_RANGE)), 0)


def _one_over_one_plus_x(x: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return _F32(1) / (_F32(1) + x)


def _reciprocal_lut() -> np.ndarray:
    return lut_populate_int16(_one_over_one_plus_x, float(_F32(1.0) / _F32(_INT16_RANGE)), -32768,
                              float(_F32(2.0) / _F32(_INT16_RANGE)), 0)


def _near(a: float, b: float, epsilon: float) -> bool:
    """``TF_LITE_ENSURE_NEAR`` on floats."""
    a, b = _F32(a), _F32(b)
    return bool((a - b if a > b else b - a) <= _F32(epsilon))


@register("SOFTMAX")
class Softmax(Kernel):
    """TFLM SOFTMAX for int8 -> int8, int8 -> int16, int16 -> int16 and float32.

    int8 input: gemmlowp fixed point, as ``reference_ops::Softmax``: d = x - row max; entries with
    d < diff_min (from ``PreprocessSoftmaxScaling`` / ``CalculateInputRadius``) give the output
    minimum; the others are ``exp_on_negative_values`` of ``MultiplyByQuantizedMultiplierGreater
    ThanOne(d)`` in Q5.26, summed in Q12.19, ``GetReciprocal`` of the sum, and a rounding shift to
    the output type. The exp of all 256 possible d is tabulated in prepare. Output params are
    checked like TFLM: int8 needs scale exactly 1/256 and zero point -128, int16 (from int8) scale
    1/65536 (to 0.1%) and zero point -32768.

    int16 input: TFLM's LUT algorithm (``SoftmaxInt16``): the 513-entry exp and 1/(1+x) tables built
    by ``LUTPopulateInt16`` in float32 (exp through glibc-exact ``expf``), ``LUTLookup``
    interpolation, the Q16.15 sum normalised by its leading zeros. Zero points must be 0 and the
    output scale 1/32768 (to 0.1%).

    float32: max over the row (NaN skipped like ``std::max``), ``expf((x - max) * beta)``, a
    sequential float32 sum, then division, as in the reference loop.

    Tests: oracle parity for each dtype pair, several betas and input scales, rank-3 rows, the
    diff_min cut-off, special float values, and the softmax ops of the shared models.
    """

    def prepare(self, ctx: OpContext) -> SoftmaxInt8Params | SoftmaxInt16Params | SoftmaxFloatParams:
        x, out = ctx.input(0), ctx.output()
        beta = float(_F32(ctx.options.get("beta", 1.0)))
        if x.dtype == np.float32:
            if out.dtype != np.float32:
                raise ctx.unsupported(f"float32 input with {out.dtype} output")
            return SoftmaxFloatParams(_F32(beta))
        if x.dtype not in (np.int8, np.int16) or out.dtype not in (np.int8, np.int16):
            raise ctx.unsupported(f"{x.dtype} -> {out.dtype} is not supported")
        if out.dtype == np.int8 and x.dtype != np.int8:
            raise ctx.unsupported("int8 output needs int8 input")
        if x.quant is None or out.quant is None:
            raise ctx.unsupported("quantized SOFTMAX needs input and output scales")
        if x.dtype == np.int16:
            return self._prepare_int16(ctx, x, out, beta)
        return self._prepare_int8(ctx, x, out, beta)

    @staticmethod
    def _prepare_int8(ctx: OpContext, x, out, beta: float) -> SoftmaxInt8Params:
        if out.dtype == np.int8:
            if out.zero_point != -128 or _F32(out.scale) != _F32(1.0 / 256):
                raise ctx.unsupported("int8 softmax output must have scale 1/256, zero point -128")
        elif out.zero_point != -32768 or not _near(out.scale, 1.0 / 65536, 0.001 / 65536):
            raise ctx.unsupported(
                "int16 softmax output (int8 input) must have scale 1/65536, zero point -32768")
        real = min(beta * float(_F32(x.scale)) * (1 << (31 - _SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
        if not real > 1.0:
            raise ctx.unsupported("beta * input scale is too small for TFLM's int8 softmax")
        multiplier, left_shift = fp.quantize_multiplier(real)
        radius = int(np.floor(((1 << _SCALED_DIFF_INTEGER_BITS) - 1)
                              * float(1 << (31 - _SCALED_DIFF_INTEGER_BITS)) / float(1 << left_shift)))
        diff = np.arange(-255, 1, dtype=np.int64)
        valid = diff >= -radius
        scaled = fp.multiply_by_quantized_multiplier_greater_than_one(
            np.where(valid, diff, 0), multiplier, left_shift)
        exp = fp.exp_on_negative_values(scaled, _SCALED_DIFF_INTEGER_BITS)
        summand = np.where(valid, fp.rounding_divide_by_pot(exp, _ACCUMULATION_INTEGER_BITS), 0)
        return SoftmaxInt8Params(exp, summand, valid, np.dtype(out.dtype).itemsize * 8, np.dtype(out.dtype))

    @staticmethod
    def _prepare_int16(ctx: OpContext, x, out, beta: float) -> SoftmaxInt16Params:
        if x.zero_point != 0 or out.zero_point != 0:
            raise ctx.unsupported("int16 softmax needs zero points of 0")
        if not _near(out.scale, 1.0 / 32768, 0.001 / 32768):
            raise ctx.unsupported("int16 softmax output must have scale 1/32768")
        real = float(_F32(x.scale)) * beta / (10.0 / 65535.0)
        multiplier, shift = fp.quantize_multiplier(real)
        diff = -np.arange(65536, dtype=np.int64)
        scaled = fp.multiply_by_quantized_multiplier(diff, multiplier, shift)
        exp = lut_lookup_int16(np.clip(scaled + 32767, -32768, 32767), _exp_lut())
        return SoftmaxInt16Params(exp, _reciprocal_lut())

    def eval(self, params, inputs, ctx):
        x = inputs[0]
        if isinstance(params, SoftmaxFloatParams):
            return [_softmax_float(x, params.beta)]
        if isinstance(params, SoftmaxInt16Params):
            return [_softmax_int16(x, params)]
        return [_softmax_int8(x, params)]


def _softmax_int8(x: np.ndarray, p: SoftmaxInt8Params) -> np.ndarray:
    x = x.astype(np.int64)
    index = x - x.max(axis=-1, keepdims=True) + 255
    total = fp.wrap_int32(p.summand[index].sum(axis=-1, keepdims=True))
    reciprocal, bits_over_unit = fp.get_reciprocal(total, _ACCUMULATION_INTEGER_BITS)
    exponent = bits_over_unit + 31 - p.out_bits
    scaled = fp.rounding_divide_by_pot(
        fp.saturating_rounding_doubling_high_mul(reciprocal, p.exp[index]), exponent)
    info = np.iinfo(p.dtype)
    out = np.clip(scaled + info.min, info.min, info.max)
    return np.where(p.valid[index], out, info.min).astype(p.dtype)


def _softmax_int16(x: np.ndarray, p: SoftmaxInt16Params) -> np.ndarray:
    x = x.astype(np.int64)
    exp = p.exp[x.max(axis=-1, keepdims=True) - x]
    total = fp.wrap_int32(exp.sum(axis=-1, keepdims=True))
    headroom_plus_one = fp.count_leading_zeros_u32(total)
    shifted = ((total << (headroom_plus_one - 1)) + (1 << 13)) >> 14
    reciprocal = lut_lookup_int16(np.clip(shifted - ((1 << 15) + (1 << 16)), -32768, 32767),
                                  p.reciprocal_lut)
    right_shift = 31 - headroom_plus_one
    result = (exp * reciprocal + (np.int64(1) << (right_shift - 1))) >> right_shift
    return np.clip(result, 0, 32767).astype(np.int16)


def _softmax_float(x: np.ndarray, beta: np.float32) -> np.ndarray:
    lowest = _F32(np.finfo(_F32).min)
    row_max = np.fmax.reduce(x, axis=-1, keepdims=True, initial=lowest)
    with np.errstate(invalid="ignore", over="ignore"):
        e = expf((x - row_max) * beta)
        total = np.zeros(x.shape[:-1] + (1,), _F32)
        for c in range(x.shape[-1]):
            total += e[..., c : c + 1]
        return (e / total).astype(_F32)
