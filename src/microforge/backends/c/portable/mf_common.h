/* microforge C kernels: shared types and TFLM's fixed-point arithmetic.
 *
 * Mirrors src/microforge/fixedpoint.py function for function (TFLM's double-rounding
 * MultiplyByQuantizedMultiplier). C99, no allocation, no recursion. */
#ifndef MF_COMMON_H
#define MF_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* The kernel variants this build uses (x86_sse2/ on x86-64 hosts unless -DMF_NO_SIMD, arm_dsp/ on
 * Arm cores with the DSP extension unless -DMF_NO_DSP) and the kernels they replace
 * (MF_VARIANT_*): bit-exact twins of the portable C, which the tests build both ways. */
#include "mf_x86_sse2.h"
#include "mf_arm_dsp.h"
#include "mf_arm_mve.h"

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
 * h = (a * m + 2^30) >> 31 with an arithmetic shift (one SMLAL on Arm), and h > INT32_MIN.
 * RoundingDivideByPOT(h, r) (halves away from zero) equals floor((q + 1) / 2) =
 * (q >> 1) + (q & 1) with q = (h - (h < 0)) >> (r - 1): 32-bit operations only (no 64-bit shift
 * by a variable amount, which costs ~20 instructions on a Cortex-M), no overflow. */
static inline int32_t mf_requantize(int32_t x, int32_t multiplier, int32_t left, int32_t right) {
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)multiplier;
    const int32_t high = (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
#if defined(__x86_64__) || defined(__aarch64__)
    /* 64-bit hosts: one 64-bit shift by a variable amount is one instruction */
    return right == 0 ? high
                      : (int32_t)(((int64_t)high + ((int64_t)1 << (right - 1)) - (high < 0)) >> right);
#else
    int32_t q;
    if (right == 0) {
        return high;
    }
    q = (high - (high < 0)) >> (right - 1);
    return (q >> 1) + (q & 1);
#endif
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
