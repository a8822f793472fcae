"""Fixed-point helpers: golden values from the gemmlowp/TFLM definitions, and the vectorized versions
checked against a scalar transcription of the C semantics (truncating division, arithmetic shifts)."""

import numpy as np

from microforge import fixedpoint as fp


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _srdhm(a: int, b: int) -> int:
    if a == b == fp.INT32_MIN:
        return fp.INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _c_div(ab + nudge, 1 << 31)


def _rdbypot(x: int, e: int) -> int:
    mask = (1 << e) - 1
    rem = x & mask
    thr = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> e) + (1 if rem > thr else 0)


def test_quantize_multiplier_golden():
    assert fp.quantize_multiplier(0.0) == (0, 0)
    assert fp.quantize_multiplier(0.5) == (1 << 30, 0)
    assert fp.quantize_multiplier(1.0) == (1 << 30, 1)
    assert fp.quantize_multiplier(0.25) == (1 << 30, -1)
    # 1 - 2**-33 rounds up to 2**31 in Q31 and is renormalised.
    assert fp.quantize_multiplier(1 - 2.0**-33) == (1 << 30, 1)
    assert fp.quantize_multiplier(2.0**-40) == (0, 0)


def test_round_half_away_is_std_round():
    """Halves away from zero, for Python floats and numpy float32 values alike."""
    assert [fp.round_half_away(v) for v in (0.5, 1.5, 2.5, -0.5, -1.5, -2.5)] == [1, 2, 3, -1, -2, -3]
    assert [fp.round_half_away(v) for v in (0.49, -0.49, 0.0, -0.0, 2.51)] == [0, 0, 0, 0, 3]
    assert fp.round_half_away(np.float32(6.0) / np.float32(0.04)) == 150
    assert fp.round_half_away(np.float32(-127.5)) == -128
    assert isinstance(fp.round_half_away(np.float32(3.5)), int)


def test_rounding_divide_by_pot_golden():
    x = np.array([5, -5, 4, -4, 6, -6, 7, -7])
    np.testing.assert_array_equal(fp.rounding_divide_by_pot(x, 1), [3, -3, 2, -2, 3, -3, 4, -4])


def test_srdhm_overflow_case():
    assert fp.saturating_rounding_doubling_high_mul(fp.INT32_MIN, fp.INT32_MIN) == fp.INT32_MAX


def test_vectorized_matches_scalar_semantics():
    rng = np.random.default_rng(0)
    a = rng.integers(fp.INT32_MIN, fp.INT32_MAX, 5000, endpoint=True)
    b = rng.integers(fp.INT32_MIN, fp.INT32_MAX, 5000, endpoint=True)
    e = rng.integers(0, 31, 5000)
    got = fp.saturating_rounding_doubling_high_mul(a, b)
    np.testing.assert_array_equal(got, [_srdhm(int(x), int(y)) for x, y in zip(a, b)])
    got = fp.rounding_divide_by_pot(a, e)
    np.testing.assert_array_equal(got, [_rdbypot(int(x), int(k)) for x, k in zip(a, e)])


def test_multiply_by_quantized_multiplier_matches_scalar():
    rng = np.random.default_rng(1)
    x = rng.integers(-(1 << 24), 1 << 24, 3000)
    for real in (0.0007, 0.013, 0.49, 0.99999, 1.7, 3.1):
        q, s = fp.quantize_multiplier(real)
        left, right = max(s, 0), max(-s, 0)
        want = [_rdbypot(_srdhm(int(v) * (1 << left), q), right) for v in x]
        np.testing.assert_array_equal(fp.multiply_by_quantized_multiplier(x, q, s), want)
        # the exact real product is within one unit of the fixed-point result
        assert np.max(np.abs(np.array(want) - x * real)) <= 1 + 1e-6 * np.max(np.abs(x * real))


def test_int64_multiplier_variant():
    q, s = fp.quantize_multiplier(0.3)
    x = np.array([0, 1, -1, 1 << 32, -(1 << 32), 123456789])
    reduced = (q + (1 << 15)) >> 16
    want = [(int(v) * reduced + (1 << (15 - s - 1))) >> (15 - s) for v in x]
    np.testing.assert_array_equal(fp.multiply_by_quantized_multiplier_int64(x, q, s), want)
