"""The integer arithmetic TFLite Micro uses, vectorized over numpy int64 arrays.

Every function reproduces the C++ in ``tensorflow/lite/kernels/internal/common.h`` /
``quantization_util.cc`` (double-rounding build, TFLM's default) for every element. Values are
carried in int64 arrays; functions documented as returning int32 values return int64 arrays whose
elements fit int32. The C kernels mirror these functions one to one.
"""

from __future__ import annotations

import math

import numpy as np

from microforge.errors import ModelError

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def round_half_away(x: float) -> int:
    """``std::round`` / ``roundf`` of one value, as an int: halves round away from zero. ``x`` may
    be a Python float or a numpy float (its exact value is rounded; ``floor(|x| + 0.5)`` in double,
    as TFLM's callers compute it)."""
    x = float(x)
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """``QuantizeMultiplier``: real = q * 2**(shift - 31) with q a Q31 int32 in [2**30, 2**31)."""
    if real_multiplier == 0.0:
        return 0, 0
    if not math.isfinite(real_multiplier):
        raise ModelError(f"a quantization multiplier is {real_multiplier} (from scales out of range)")
    q, shift = math.frexp(real_multiplier)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed > (1 << 31):
        raise ValueError(f"cannot quantize multiplier {real_multiplier}")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def quantize_multiplier_array(real_multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``QuantizeMultiplier`` for each element (per-channel scales); returns int64 arrays."""
    pairs = [quantize_multiplier(float(m)) for m in np.ravel(real_multipliers)]
    q = np.array([p[0] for p in pairs], dtype=np.int64).reshape(np.shape(real_multipliers))
    s = np.array([p[1] for p in pairs], dtype=np.int64).reshape(np.shape(real_multipliers))
    return q, s


def quantize_multiplier_smaller_than_one(real_multiplier: float) -> tuple[int, int]:
    """``QuantizeMultiplierSmallerThanOneExp``: as quantize_multiplier, asserting shift <= 0."""
    q, shift = quantize_multiplier(real_multiplier)
    if shift > 0:
        raise ValueError(f"multiplier {real_multiplier} is not smaller than one")
    return q, shift


def wrap_int32(x: np.ndarray) -> np.ndarray:
    """Two's complement wrap of int64 values to the int32 range (C int32 overflow)."""
    return ((np.asarray(x, dtype=np.int64) + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def saturating_rounding_doubling_high_mul(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` for int32 a, b (as int64 arrays)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    # C: (a*b + nudge) / 2**31 truncated toward zero, nudge = 2**30 or 1 - 2**30 by the sign of
    # a*b. Both signs reduce to floor((a*b + 2**30) / 2**31): one multiply, one add, one shift.
    high = (a * b + (1 << 30)) >> 31
    if (int(b) == INT32_MIN) if b.ndim == 0 else np.any(b == INT32_MIN):
        high = np.where((a == INT32_MIN) & (b == INT32_MIN), np.int64(INT32_MAX), high)
    return high


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: x / 2**exponent rounded to nearest, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    # Equivalent to gemmlowp's remainder/threshold form: floor((x + 2**(e-1) - [x < 0]) / 2**e)
    # for e > 0, x itself for e == 0 (``x >> 63`` is -1 for negative x).
    if exponent.ndim == 0:
        e = int(exponent)
        return (x + ((x >> 63) + (1 << (e - 1)))) >> e if e > 0 else x
    half = (np.int64(1) << exponent) >> 1
    negative_adjust = (x >> 63) * (exponent > 0)
    return (x + half + negative_adjust) >> exponent


def multiply_by_quantized_multiplier(
    x: np.ndarray, quantized_multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """``MultiplyByQuantizedMultiplier(int32 x, int32 q, int shift)`` (double rounding).

    ``quantized_multiplier`` and ``shift`` broadcast against ``x`` (per-channel on the last axis).
    """
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if shift.ndim == 0:
        left, right = max(int(shift), 0), max(-int(shift), 0)
        shifted = wrap_int32(x << left) if left else x
    else:
        left = np.maximum(shift, 0)
        right = np.maximum(-shift, 0)
        shifted = wrap_int32(x << left) if np.any(left) else x
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, quantized_multiplier), right)


def multiply_by_quantized_multiplier_int64(
    x: np.ndarray, quantized_multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """``MultiplyByQuantizedMultiplier(int64 x, int32 q, int shift)``, used by 16x8 kernels.

    The multiplier is reduced to Q15 with rounding, then one rounding right shift.
    """
    x = np.asarray(x, dtype=np.int64)
    q = np.asarray(quantized_multiplier, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    reduced = np.where(q < 0x7FFF0000, (q + (1 << 15)) >> 16, np.int64(0x7FFF))
    total_shift = 15 - shift
    rounding = np.int64(1) << (total_shift - 1)
    return wrap_int32((x * reduced + rounding) >> total_shift)


def saturate(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Clamp to the range of an integer dtype and cast."""
    info = np.iinfo(dtype)
    return np.clip(x, info.min, info.max).astype(dtype)


# sigmoid(i / 24) in unsigned 0.16 fixed point for i = 0..255 (TFLM's ``sigmoid_table_uint16``,
# shared by the int16 logistic and tanh kernels; tanh(x) = 2 * sigmoid(2x) - 1).
SIGMOID_TABLE_UINT16 = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
], dtype=np.int64)


def _lut_prescale(x: np.ndarray, input_multiplier: int, input_left_shift: int) -> np.ndarray:
    """The input scaling shared by the int16 LUT logistic/tanh: x * multiplier, rounded right shift.

    A zero multiplier means a power-of-two input scale: multiplier 3 << shift, no shift."""
    if input_multiplier == 0:
        input_multiplier, input_left_shift = 3 << input_left_shift, 0
    rounding = (1 << (input_left_shift - 1)) if input_left_shift > 0 else 0
    x = np.asarray(x, dtype=np.int64)
    return wrap_int32(x * input_multiplier + rounding) >> input_left_shift


def _lut_interpolate(magnitude: np.ndarray, frac_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation in SIGMOID_TABLE_UINT16 at ``magnitude / 2**frac_bits``; returns the
    interpolated value scaled by 2**frac_bits and the saturation mask (index >= 255)."""
    index = magnitude >> frac_bits
    saturated = index >= 255
    safe = np.minimum(index, 254)
    low = SIGMOID_TABLE_UINT16[safe]
    high = SIGMOID_TABLE_UINT16[safe + 1]
    frac = magnitude & ((1 << frac_bits) - 1)
    return (low << frac_bits) + frac * (high - low), saturated


def logistic_int16_lut(
    x: np.ndarray, input_multiplier: int = 0, input_left_shift: int = 0
) -> np.ndarray:
    """``reference_integer_ops::Logistic`` for int16 (LUT with interpolation); output Q0.15 int16.

    With the default (0, 0) the input is Q3.12, as in TFLM's integer LSTM gates."""
    v = _lut_prescale(x, input_multiplier, input_left_shift)
    value, saturated = _lut_interpolate(np.abs(v), 9)
    value = np.where(saturated, np.int64(0x7FFF << 10), value)
    value = np.where(v >= 0, value + (1 << 9), (1 << 25) - value + (1 << 9) - 1)
    return (value >> 10).astype(np.int16)


def tanh_int16_lut(x: np.ndarray, input_multiplier: int = 0, input_left_shift: int = 0) -> np.ndarray:
    """``reference_integer_ops::Tanh`` for int16 (the sigmoid LUT read at 2x); output Q0.15 int16."""
    v = _lut_prescale(x, input_multiplier, input_left_shift)
    value, saturated = _lut_interpolate(np.abs(v), 8)
    value = np.where(saturated, np.int64(0xFFFF << 8), value)
    value = np.where(v >= 0, value - (1 << 23) + (1 << 7), (1 << 23) + (1 << 7) - 1 - value)
    return (value >> 8).astype(np.int16)


def wrap_int16(x: np.ndarray) -> np.ndarray:
    """Two's complement wrap of int64 values to the int16 range (assignment to an int16_t)."""
    return ((np.asarray(x, dtype=np.int64) + (1 << 15)) & 0xFFFF) - (1 << 15)


def saturating_rounding_doubling_high_mul_int16(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingDoublingHighMul`` for int16 a, b (as int64 arrays)."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    total = ab + np.where(ab >= 0, np.int64(1 << 14), np.int64(1 - (1 << 14)))
    high = np.where(total >= 0, total >> 15, -((-total) >> 15))
    overflow = (a == -(1 << 15)) & (b == -(1 << 15))
    return np.where(overflow, np.int64((1 << 15) - 1), wrap_int16(high))


def rounding_divide_by_pot_int16(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT`` on int16 values, including its int16 mask truncation when
    ``exponent`` >= 16 (the C code only asserts exponent <= 31 in debug builds)."""
    x = np.asarray(x, dtype=np.int64)
    mask = int(wrap_int16((1 << exponent) - 1))
    remainder = x & mask
    threshold = wrap_int16((mask >> 1) + (x < 0))
    return wrap_int16((x >> exponent) + (remainder > threshold))


# --- gemmlowp fixed-point math (fixedpoint.h) on int32 raw values --------------------------------
#
# A raw value r with N integer bits stands for r / 2**(31 - N). Products are
# saturating_rounding_doubling_high_mul; additions wrap like the C int32 arithmetic.


def count_leading_zeros_u32(x: np.ndarray) -> np.ndarray:
    """``CountLeadingZeros`` of the uint32 bit patterns of x (32 for zero)."""
    u = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    _, bit_length = np.frexp(u.astype(np.float64))  # exact: u < 2**53
    return 32 - bit_length.astype(np.int64)


def saturating_rounding_multiply_by_pot(x: np.ndarray, exponent: int) -> np.ndarray:
    """gemmlowp ``SaturatingRoundingMultiplyByPOT<exponent>`` on int32 values."""
    x = np.asarray(x, dtype=np.int64)
    if exponent <= 0:
        return rounding_divide_by_pot(x, -exponent) if exponent else x
    threshold = (1 << (31 - exponent)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << exponent))


def rounding_half_sum(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``RoundingHalfSum``: (a + b) / 2 rounded half away from zero."""
    total = np.asarray(a, dtype=np.int64) + b
    total = total + np.where(total >= 0, 1, -1)
    return np.where(total >= 0, total >> 1, -((-total) >> 1))


def multiply_by_quantized_multiplier_greater_than_one(
    x: np.ndarray, quantized_multiplier: int, left_shift: int
) -> np.ndarray:
    """``MultiplyByQuantizedMultiplierGreaterThanOne`` (double rounding): no right shift."""
    shifted = wrap_int32(np.asarray(x, dtype=np.int64) << left_shift)
    return saturating_rounding_doubling_high_mul(shifted, quantized_multiplier)


def _exp_on_interval_quarter(a: np.ndarray) -> np.ndarray:
    """exp(a) for a in [-1/4, 0), 0 integer bits in and out: Taylor series around -1/8."""
    exp_minus_eighth, one_third = 1895147668, 715827883
    x = wrap_int32(a + (1 << 28))
    x2 = saturating_rounding_doubling_high_mul(x, x)
    x3 = saturating_rounding_doubling_high_mul(x2, x)
    x4 = saturating_rounding_doubling_high_mul(x2, x2)
    x4_over_4 = rounding_divide_by_pot(x4, 2)
    poly = wrap_int32(saturating_rounding_doubling_high_mul(wrap_int32(x4_over_4 + x3), one_third) + x2)
    poly = rounding_divide_by_pot(poly, 1)
    return wrap_int32(
        exp_minus_eighth + saturating_rounding_doubling_high_mul(exp_minus_eighth, wrap_int32(x + poly))
    )


# exp(-2**k) in Q0.31 for the barrel shifter of exp_on_negative_values, k = -2..4.
_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp ``exp_on_negative_values``: exp(a) for a <= 0 with ``integer_bits`` integer bits;
    the result has 0 integer bits (exp(0) gives the Q0.31 maximum)."""
    a = np.asarray(a, dtype=np.int64)
    frac_bits = 31 - integer_bits
    quarter = 1 << (frac_bits - 2)
    a_mod = wrap_int32((a & (quarter - 1)) - quarter)
    result = _exp_on_interval_quarter(saturating_rounding_multiply_by_pot(a_mod, integer_bits))
    remainder = wrap_int32(a_mod - a)
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = (remainder >> (frac_bits + exponent)) & 1
            result = np.where(bit == 1, saturating_rounding_doubling_high_mul(result, multiplier), result)
    if integer_bits > 5:
        result = np.where(a < -(1 << (36 - integer_bits)), 0, result)
    return np.where(a == 0, INT32_MAX, result)


def _newton_reciprocal(half_denominator: np.ndarray) -> np.ndarray:
    """Three Newton-Raphson steps for 1 / half_denominator (result with 2 integer bits)."""
    x = wrap_int32(1515870810 + saturating_rounding_doubling_high_mul(half_denominator, -1010580540))
    one_q2 = 1 << 29
    for _ in range(3):
        error = wrap_int32(one_q2 - saturating_rounding_doubling_high_mul(half_denominator, x))
        step = saturating_rounding_doubling_high_mul(x, error)
        x = wrap_int32(x + saturating_rounding_multiply_by_pot(step, 2))
    return x


def one_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp ``one_over_one_plus_x_for_x_in_0_1`` (Q0.31 in and out)."""
    x = _newton_reciprocal(rounding_half_sum(a, INT32_MAX))
    return saturating_rounding_multiply_by_pot(x, 1)


def one_minus_x_over_one_plus_x_for_x_in_0_1(a: np.ndarray) -> np.ndarray:
    """gemmlowp ``one_minus_x_over_one_plus_x_for_x_in_0_1`` (Q0.31 in and out)."""
    x = _newton_reciprocal(rounding_half_sum(a, INT32_MAX))
    return saturating_rounding_multiply_by_pot(wrap_int32(x - (1 << 29)), 2)


def logistic_q31(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp ``logistic`` of an int32 fixed-point value; Q0.31 result (0.5 for a == 0)."""
    a = np.asarray(a, dtype=np.int64)
    positive = a > 0
    magnitude = np.where(positive, a, wrap_int32(-a))
    if_positive = one_over_one_plus_x_for_x_in_0_1(
        exp_on_negative_values(wrap_int32(-magnitude), integer_bits))
    if_negative = wrap_int32(INT32_MAX - if_positive)
    return np.where(a == 0, 1 << 30, np.where(positive, if_positive, if_negative))


def tanh_q31(a: np.ndarray, integer_bits: int) -> np.ndarray:
    """gemmlowp ``tanh`` of an int32 fixed-point value; Q0.31 result."""
    a = np.asarray(a, dtype=np.int64)
    negative = a < 0
    neg_magnitude = np.where(negative, a, wrap_int32(-a))
    t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(neg_magnitude, integer_bits + 1))
    return np.where(a == 0, 0, np.where(negative, wrap_int32(-t), t))


def get_reciprocal(x: np.ndarray, x_integer_digits: int) -> tuple[np.ndarray, np.ndarray]:
    """TFLM ``GetReciprocal``: (Q0.31 reciprocal of x normalised to [1, 2), num_bits_over_unit)."""
    x = np.asarray(x, dtype=np.int64)
    headroom_plus_one = count_leading_zeros_u32(x)
    shifted_minus_one = wrap_int32(((x & 0xFFFFFFFF) << headroom_plus_one) - (1 << 31))
    return one_over_one_plus_x_for_x_in_0_1(shifted_minus_one), x_integer_digits - headroom_plus_one


def count_leading_sign_bits(x: np.ndarray) -> np.ndarray:
    """``CountLeadingSignBits`` of int32 values: redundant sign bits (31 for 0 and -1)."""
    x = np.asarray(x, dtype=np.int64)
    return count_leading_zeros_u32(np.where(x < 0, ~x, x)) - 1


def rounding_divide_by_pot_any(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT`` on int32 values for exponents up to 63, as the x86-64 build
    evaluates it: beyond 31 (undefined in C) the int32 mask truncates to all ones and the shift
    count is taken modulo 32, giving ``(x >> (e - 32)) + (x >= 0)``."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    big = exponent >= 32
    normal = rounding_divide_by_pot(x, np.where(big, 0, exponent))
    return np.where(big, (x >> (exponent & 31)) + (x >= 0), normal)
