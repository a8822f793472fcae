"""The integer arithmetic TFLite Micro uses, vectorized over numpy int64 arrays.

Every function reproduces the C++ in ``tensorflow/lite/kernels/internal/common.h`` /
``quantization_util.cc`` (double-rounding build, TFLM's default) for every element. Values are
carried in int64 arrays; functions documented as returning int32 values return int64 arrays whose
elements fit int32. The C kernels mirror these functions one to one.
"""

from __future__ import annotations

import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def _round_half_away(x: float) -> int:
    """``std::round``: halves round away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """``QuantizeMultiplier``: real = q * 2**(shift - 31) with q a Q31 int32 in [2**30, 2**31)."""
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(real_multiplier)
    q_fixed = _round_half_away(q * (1 << 31))
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
    ab = a * b
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    total = ab + nudge
    # C++ integer division truncates toward zero.
    high = np.where(total >= 0, total >> 31, -((-total) >> 31))
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, np.int64(INT32_MAX), high)


def rounding_divide_by_pot(x: np.ndarray, exponent: np.ndarray | int) -> np.ndarray:
    """gemmlowp ``RoundingDivideByPOT``: x / 2**exponent rounded to nearest, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(
    x: np.ndarray, quantized_multiplier: np.ndarray | int, shift: np.ndarray | int
) -> np.ndarray:
    """``MultiplyByQuantizedMultiplier(int32 x, int32 q, int shift)`` (double rounding).

    ``quantized_multiplier`` and ``shift`` broadcast against ``x`` (per-channel on the last axis).
    """
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
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
