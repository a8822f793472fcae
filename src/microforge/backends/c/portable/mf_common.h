/* microforge C kernels: shared types and TFLM's fixed-point arithmetic.
 *
 * Mirrors src/microforge/fixedpoint.py function for function (TFLM's double-rounding
 * MultiplyByQuantizedMultiplier). C99, no allocation, no recursion. */
#ifndef MF_COMMON_H
#define MF_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* Host SIMD paths (SSE2 is part of every x86-64) are bit-exact twins of the portable C next to
 * them; -DMF_NO_SIMD selects the portable C everywhere (the tests build both). */
#if defined(__SSE2__) && !defined(MF_NO_SIMD)
#define MF_SIMD_SSE2 1
#include <emmintrin.h>
#endif

#define MF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MF_MAX(a, b) ((a) > (b) ? (a) : (b))

/* gemmlowp SaturatingRoundingDoublingHighMul. */
static inline int32_t mf_srdhm(int32_t a, int32_t b) {
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent, halves away from zero. */
static inline int32_t mf_rdbypot(int32_t x, int exponent) {
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLM MultiplyByQuantizedMultiplier(int32 x, int32 multiplier, int shift). The left shift wraps
 * like the int32 multiplication in TFLM (done on uint32 to stay defined behaviour). */
static inline int32_t mf_mbqm(int32_t x, int32_t multiplier, int shift) {
    const int left = shift > 0 ? shift : 0;
    const int right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)x << left);
    return mf_rdbypot(mf_srdhm(shifted, multiplier), right);
}

/* MultiplyByQuantizedMultiplier for a non-negative multiplier with the shift split into
 * left = max(shift, 0) and right = max(-shift, 0) (precomputed): the same value as mf_mbqm.
 * With the multiplier non-negative, SaturatingRoundingDoublingHighMul cannot saturate and equals
 * (a * m + 2^30) >> 31 with an arithmetic shift; RoundingDivideByPOT(x, r) equals
 * (x + 2^(r-1) - (x < 0)) >> r. */
static inline int32_t mf_requantize(int32_t x, int32_t multiplier, int32_t left, int32_t right) {
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)multiplier;
    const int64_t high = (ab + ((int64_t)1 << 30)) >> 31;
    if (right == 0) {
        return (int32_t)high;
    }
    return (int32_t)((high + ((int64_t)1 << (right - 1)) - (high < 0 ? 1 : 0)) >> right);
}

static inline int32_t mf_clamp(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for exponent >= 0. */
static inline int32_t mf_sat_mul_by_pot(int32_t x, int exponent) {
    int32_t threshold;
    if (exponent == 0) {
        return x;
    }
    threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* gemmlowp RoundingHalfSum. */
static inline int32_t mf_rounding_half_sum(int32_t a, int32_t b) {
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

static inline int32_t mf_wrap_add(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t mf_wrap_sub(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1 (Q0.31 in and out), three Newton-Raphson steps. */
static inline int32_t mf_one_over_one_plus_x(int32_t a) {
    const int32_t half_denominator = mf_rounding_half_sum(a, INT32_MAX);
    const int32_t one_q2 = (int32_t)1 << 29;
    int32_t x = mf_wrap_add(1515870810, mf_srdhm(half_denominator, -1010580540));
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t error = mf_wrap_sub(one_q2, mf_srdhm(half_denominator, x));
        x = mf_wrap_add(x, mf_sat_mul_by_pot(mf_srdhm(x, error), 2));
    }
    return mf_sat_mul_by_pot(x, 1);
}

/* Count of leading zero bits (32 for 0): the compiler's instruction where it has one. */
static inline int mf_clz32(uint32_t x) {
#if defined(__GNUC__)
    return x == 0 ? 32 : __builtin_clz(x);
#else
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
#endif
}

/* TFLM GetReciprocal: Q0.31 reciprocal of x normalised to [1, 2); *bits_over_unit set. */
static inline int32_t mf_get_reciprocal(int32_t x, int integer_digits, int *bits_over_unit) {
    const int headroom_plus_one = mf_clz32((uint32_t)x);
    const int32_t shifted_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    *bits_over_unit = integer_digits - headroom_plus_one;
    return mf_one_over_one_plus_x(shifted_minus_one);
}

/* Arm cores with the DSP extension (Cortex-M4/M7/M33/M55): int8 dot products through the 32-bit
 * SIMD multiply-accumulates (ACLE intrinsics). Integer sums are exact, so these return the same
 * bits as the portable loops they replace; define MF_NO_DSP to build the portable C only. */
#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(MF_NO_DSP)
#include <arm_acle.h>
#define MF_USE_DSP 1

static inline uint32_t mf_dsp_load4(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Bytes 1 and 3 of v, sign-extended into two int16 halves (bytes 0 and 2: __sxtb16(v)). */
static inline int16x2_t mf_dsp_sxtb16_odd(uint32_t v) {
    return __sxtb16((v >> 8) | (v << 24));
}

/* acc + sum of x[i] * w[i] for i < n. */
static inline int32_t mf_dsp_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc) {
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = mf_dsp_load4(x + i);
        const uint32_t wv = mf_dsp_load4(w + i);
        acc = __smlad(__sxtb16(xv), __sxtb16(wv), acc);
        acc = __smlad(mf_dsp_sxtb16_odd(xv), mf_dsp_sxtb16_odd(wv), acc);
    }
    for (; i < n; ++i) {
        acc += (int32_t)x[i] * (int32_t)w[i];
    }
    return acc;
}

/* Two dot products sharing x: acc[0] += x . w0, acc[1] += x . w1. */
static inline void mf_dsp_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                              int32_t *acc) {
    int32_t a0 = acc[0], a1 = acc[1];
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = mf_dsp_load4(x + i);
        const int16x2_t x02 = __sxtb16(xv);
        const int16x2_t x13 = mf_dsp_sxtb16_odd(xv);
        const uint32_t v0 = mf_dsp_load4(w0 + i);
        const uint32_t v1 = mf_dsp_load4(w1 + i);
        a0 = __smlad(x02, __sxtb16(v0), a0);
        a0 = __smlad(x13, mf_dsp_sxtb16_odd(v0), a0);
        a1 = __smlad(x02, __sxtb16(v1), a1);
        a1 = __smlad(x13, mf_dsp_sxtb16_odd(v1), a1);
    }
    for (; i < n; ++i) {
        a0 += (int32_t)x[i] * (int32_t)w0[i];
        a1 += (int32_t)x[i] * (int32_t)w1[i];
    }
    acc[0] = a0;
    acc[1] = a1;
}
#else
#define MF_USE_DSP 0
#endif

/* int8 dot products against an int16 copy of the input row: gcc vectorizes these reductions
 * into pmaddwd on x86-64 (about 0.8 instructions per multiply-accumulate on long rows). The sums
 * are exact in int32 while n * 2^15 * 2^7 < 2^31 (callers check their row lengths). */
static inline int32_t mf_dot_s16_s8(const int16_t *x, const int8_t *w, int32_t n) {
    int32_t acc = 0;
    int32_t k;
    for (k = 0; k < n; ++k) {
        acc += (int32_t)x[k] * (int32_t)w[k];
    }
    return acc;
}

/* Four weight rows (stride elements apart) against one input row: acc[r] = x . w_r. The loads of
 * x are shared by the four sums. */
static inline void mf_dot4_s16_s8(const int16_t *x, const int8_t *w, int32_t n, int32_t stride,
                                  int32_t *acc) {
    const int8_t *w1 = w + stride;
    const int8_t *w2 = w1 + stride;
    const int8_t *w3 = w2 + stride;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    int32_t k;
    for (k = 0; k < n; ++k) {
        const int32_t v = x[k];
        a0 += v * (int32_t)w[k];
        a1 += v * (int32_t)w1[k];
        a2 += v * (int32_t)w2[k];
        a3 += v * (int32_t)w3[k];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* An int8 row widened to int16 (the input of the dot products above). */
static inline void mf_widen_s8(const int8_t *x, int16_t *row, int32_t n) {
    int32_t k;
    for (k = 0; k < n; ++k) {
        row[k] = x[k];
    }
}

#endif
