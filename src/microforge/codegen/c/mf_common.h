/* microforge C kernels: shared types and TFLM's fixed-point arithmetic.
 *
 * Mirrors src/microforge/fixedpoint.py function for function (TFLM's double-rounding
 * MultiplyByQuantizedMultiplier). C99, no allocation, no recursion. */
#ifndef MF_COMMON_H
#define MF_COMMON_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

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

static inline int mf_clz32(uint32_t x) {
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLM GetReciprocal: Q0.31 reciprocal of x normalised to [1, 2); *bits_over_unit set. */
static inline int32_t mf_get_reciprocal(int32_t x, int integer_digits, int *bits_over_unit) {
    const int headroom_plus_one = mf_clz32((uint32_t)x);
    const int32_t shifted_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    *bits_over_unit = integer_digits - headroom_plus_one;
    return mf_one_over_one_plus_x(shifted_minus_one);
}

#endif
