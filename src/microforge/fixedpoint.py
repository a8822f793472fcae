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
