"""The NPU's output scaling: an integer value times a 32-bit scale, shifted right, rounded in
one of three modes (``OFM_PRECISION`` bits 14-15, Vela's ``rounding`` enum).

* ``TFL`` (0): TFLite's ``MultiplyByQuantizedMultiplier`` with multiplier ``scale`` and exponent
  ``31 - shift``: a left shift when the exponent is positive, the saturating rounding doubling
  high multiply (rounding half away from zero at bit 31), then a rounding divide by the remaining
  power of two (half away from zero). This double rounding is what TFLM's integer kernels do.
* ``TRUNCATE`` (1): ``value * scale / 2**shift`` rounded toward zero.
* ``NATURAL`` (2): ``value * scale / 2**shift`` rounded half up (``floor(x + 1/2)``).

Values are int64 numpy arrays; a product that might not fit 63 bits is computed with Python
integers (object arrays), so no precision is lost.
"""

from __future__ import annotations

import numpy as np

TFL, TRUNCATE, NATURAL = 0, 1, 2


def _fits(v: np.ndarray, scale) -> bool:
    if v.size == 0:
        return True
    top = int(np.max(np.abs(v))) * int(np.max(np.abs(np.asarray(scale, dtype=np.int64))) + 1)
    return top < (1 << 62)


def _shr_round(x: np.ndarray, n: np.ndarray, mode: int) -> np.ndarray:
    """x / 2**n (n >= 0) rounded in ``mode``; TFL is half away from zero."""
    n = np.broadcast_to(n, x.shape)
    one = np.ones_like(x)
    if mode == NATURAL:
        half = np.where(n > 0, one << np.maximum(n - 1, 0), 0)
        return (x + half) >> n
    if mode == TRUNCATE:
        q = np.abs(x) >> n
        return np.where(x < 0, -q, q)
    mask = (one << n) - 1
    rem = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> n) + (rem > threshold)


def scale_values(v: np.ndarray, scale, shift, mode: int) -> np.ndarray:
    """``v * scale / 2**shift`` rounded as the NPU does in ``mode`` (per element or per channel
    ``scale``/``shift`` broadcasting against ``v``)."""
    v = np.asarray(v)
    scale = np.asarray(scale, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    big = not _fits(v.astype(np.int64) if v.dtype != object else v, scale) or v.dtype == object
    if big:
        v = v.astype(object)
        scale = scale.astype(object)
    else:
        v = v.astype(np.int64)
    if mode != TFL:
        prod = v * scale
        return _shr_round_any(prod, shift, mode, big)
    left = np.maximum(31 - shift, 0)
    right = np.maximum(shift - 31, 0)
    x = v * (np.ones_like(left) << left) if np.any(left) else v
    if big:
        x = x.astype(object)
    prod = x * scale
    # SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2**31, C division (toward zero)
    nudge = np.where(prod >= 0, 1 << 30, 1 - (1 << 30))
    s = prod + nudge
    hi = _div_trunc(s, 31, big)
    return _shr_round_any(hi, right, TFL, big)


def _div_trunc(x, n: int, big: bool):
    if big:
        return np.vectorize(lambda a: -((-a) >> n) if a < 0 else a >> n, otypes=[object])(x)
    q = np.abs(x) >> n
    return np.where(x < 0, -q, q)


def _shr_round_any(x, n, mode: int, big: bool):
    if not big:
        return _shr_round(np.asarray(x, dtype=np.int64), np.asarray(n, dtype=np.int64), mode)
    n = np.broadcast_to(np.asarray(n), np.shape(x))

    def one(a, k):
        k = int(k)
        if k <= 0:
            return a
        if mode == NATURAL:
            return (a + (1 << (k - 1))) >> k
        if mode == TRUNCATE:
            return -((-a) >> k) if a < 0 else a >> k
        mask = (1 << k) - 1
        return (a >> k) + ((a & mask) > (mask >> 1) + (a < 0))

    out = np.vectorize(one, otypes=[object])(x, n)
    return np.clip(out, -(1 << 62), (1 << 62)).astype(np.int64)


def saturate(v: np.ndarray, dtype) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(v, info.min, info.max)
