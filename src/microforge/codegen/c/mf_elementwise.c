#include "mf_elementwise.h"

/* The row loop: each operand's inner step is 1 or 0 (broadcast), so the four cases get their own
 * simple loops. Element i of a row is read before out[i] is written: `out` may be `a` (in place)
 * when `a` is not broadcast. The odometer advances the operand offsets over the outer dims. */
#define MF_BINARY_DEF(NAME, T, EXPR)                                                         \
    void NAME(const mf_binary_params *p, const T *a, const T *b, T *out) {                   \
        int32_t idx[MF_BINARY_MAX_DIMS] = {0};                                               \
        const int32_t last = p->ndims - 1, n = p->inner;                                     \
        const int32_t sa = p->a_stride[last], sb = p->b_stride[last];                        \
        size_t aoff = 0, boff = 0;                                                           \
        int32_t r, i, d;                                                                     \
        for (r = 0; r < p->rows; ++r) {                                                      \
            const T *pa = a + aoff;                                                          \
            const T *pb = b + boff;                                                          \
            T *po = out + (size_t)r * (size_t)n;                                             \
            if (sa && sb) {                                                                  \
                for (i = 0; i < n; ++i) { const T x = pa[i], y = pb[i]; po[i] = (EXPR); }    \
            } else if (sa) {                                                                 \
                const T y = pb[0];                                                           \
                for (i = 0; i < n; ++i) { const T x = pa[i]; po[i] = (EXPR); }              \
            } else if (sb) {                                                                 \
                const T x = pa[0];                                                           \
                for (i = 0; i < n; ++i) { const T y = pb[i]; po[i] = (EXPR); }              \
            } else {                                                                         \
                const T x = pa[0], y = pb[0];                                                \
                for (i = 0; i < n; ++i) { po[i] = (EXPR); }                                  \
            }                                                                                \
            for (d = last - 1; d >= 0; --d) {                                                \
                aoff += (size_t)p->a_stride[d];                                              \
                boff += (size_t)p->b_stride[d];                                              \
                if (++idx[d] < p->dims[d]) {                                                 \
                    break;                                                                   \
                }                                                                            \
                aoff -= (size_t)p->a_stride[d] * (size_t)p->dims[d];                         \
                boff -= (size_t)p->b_stride[d] * (size_t)p->dims[d];                         \
                idx[d] = 0;                                                                  \
            }                                                                                \
        }                                                                                    \
    }

/* ---- quantized int8 / int16 (TFLM's general-scale ADD/SUB, MUL, SQUARED_DIFFERENCE) ---- */

/* (v - zp) << left_shift rescaled by MultiplyByQuantizedMultiplierSmallerThanOneExp. */
static inline int32_t mf_rescale_input(int32_t v, int32_t zp, int32_t left_shift, int32_t m,
                                       int32_t s) {
    return mf_mbqm((int32_t)((uint32_t)(v - zp) << left_shift), m, (int)s);
}

/* clamp(mbqm(raw) + zpo, lo, hi), with lo and hi stored relative to zpo (no int32 overflow). */
static inline int32_t mf_requantize_output(const mf_binary_params *p, int32_t raw) {
    return mf_clamp(mf_mbqm(raw, p->mo, (int)p->so), p->lo, p->hi) + p->zpo;
}

static inline int32_t mf_add_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t s1 = mf_rescale_input(x, p->zp1, p->left_shift, p->m1, p->s1);
    const int32_t s2 = mf_rescale_input(y, p->zp2, p->left_shift, p->m2, p->s2);
    return mf_requantize_output(p, mf_wrap_add(s1, s2));
}

static inline int32_t mf_sub_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t s1 = mf_rescale_input(x, p->zp1, p->left_shift, p->m1, p->s1);
    const int32_t s2 = mf_rescale_input(y, p->zp2, p->left_shift, p->m2, p->s2);
    return mf_requantize_output(p, mf_wrap_sub(s1, s2));
}

static inline int32_t mf_mul_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t prod = (int32_t)((uint32_t)(x - p->zp1) * (uint32_t)(y - p->zp2));
    return mf_requantize_output(p, prod);
}

/* The difference of the rescaled inputs squared with int32 wrap-around. */
static inline int32_t mf_squared_difference_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t s1 = mf_rescale_input(x, p->zp1, p->left_shift, p->m1, p->s1);
    const int32_t s2 = mf_rescale_input(y, p->zp2, p->left_shift, p->m2, p->s2);
    const uint32_t d = (uint32_t)s1 - (uint32_t)s2;
    return mf_requantize_output(p, (int32_t)(d * d));
}

MF_BINARY_DEF(mf_add_s8, int8_t, (int8_t)mf_add_q(p, x, y))
MF_BINARY_DEF(mf_add_s16, int16_t, (int16_t)mf_add_q(p, x, y))
MF_BINARY_DEF(mf_sub_s8, int8_t, (int8_t)mf_sub_q(p, x, y))
MF_BINARY_DEF(mf_sub_s16, int16_t, (int16_t)mf_sub_q(p, x, y))
MF_BINARY_DEF(mf_mul_s8, int8_t, (int8_t)mf_mul_q(p, x, y))
MF_BINARY_DEF(mf_mul_s16, int16_t, (int16_t)mf_mul_q(p, x, y))
MF_BINARY_DEF(mf_squared_difference_s8, int8_t, (int8_t)mf_squared_difference_q(p, x, y))
MF_BINARY_DEF(mf_squared_difference_s16, int16_t, (int16_t)mf_squared_difference_q(p, x, y))

/* ---- int32: wrapping arithmetic clamped to CalculateActivationRange<int32> ---- */

/* C division truncating toward zero; a zero divisor gives 0 and INT32_MIN / -1 the wrapped
 * quotient INT32_MIN (where TFLM fails or traps). */
static inline int32_t mf_div_s32_value(int32_t x, int32_t y) {
    if (y == 0) {
        return 0;
    }
    if (y == -1) {
        return mf_wrap_sub(0, x);
    }
    return x / y;
}

static inline int32_t mf_squared_difference_s32_value(int32_t x, int32_t y) {
    const uint32_t d = (uint32_t)x - (uint32_t)y;
    return (int32_t)(d * d);
}

MF_BINARY_DEF(mf_add_s32, int32_t, mf_clamp(mf_wrap_add(x, y), p->lo, p->hi))
MF_BINARY_DEF(mf_sub_s32, int32_t, mf_clamp(mf_wrap_sub(x, y), p->lo, p->hi))
MF_BINARY_DEF(mf_mul_s32, int32_t,
              mf_clamp((int32_t)((uint32_t)x * (uint32_t)y), p->lo, p->hi))
MF_BINARY_DEF(mf_div_s32, int32_t, mf_clamp(mf_div_s32_value(x, y), p->lo, p->hi))
MF_BINARY_DEF(mf_squared_difference_s32, int32_t, mf_squared_difference_s32_value(x, y))

/* ---- float32: one rounding per operation, then min(max(v, lo), hi) with std::min/max
 * semantics (NaN passes, infinities clamp to the range) ---- */

static inline float mf_clampf(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return hi < v ? hi : v;
}

static inline float mf_squared_difference_f32_value(float x, float y) {
    const float d = x - y;
    return d * d;
}

MF_BINARY_DEF(mf_add_f32, float, mf_clampf(x + y, p->flo, p->fhi))
MF_BINARY_DEF(mf_sub_f32, float, mf_clampf(x - y, p->flo, p->fhi))
MF_BINARY_DEF(mf_mul_f32, float, mf_clampf(x * y, p->flo, p->fhi))
MF_BINARY_DEF(mf_div_f32, float, mf_clampf(x / y, p->flo, p->fhi))
MF_BINARY_DEF(mf_squared_difference_f32, float, mf_squared_difference_f32_value(x, y))

/* ---- MAXIMUM / MINIMUM on the stored values ---- */

MF_BINARY_DEF(mf_maximum_s8, int8_t, x > y ? x : y)
MF_BINARY_DEF(mf_maximum_s16, int16_t, x > y ? x : y)
MF_BINARY_DEF(mf_maximum_s32, int32_t, x > y ? x : y)
MF_BINARY_DEF(mf_maximum_s64, int64_t, x > y ? x : y)
MF_BINARY_DEF(mf_maximum_f32, float, x > y ? x : y)
MF_BINARY_DEF(mf_minimum_s8, int8_t, x < y ? x : y)
MF_BINARY_DEF(mf_minimum_s16, int16_t, x < y ? x : y)
MF_BINARY_DEF(mf_minimum_s32, int32_t, x < y ? x : y)
MF_BINARY_DEF(mf_minimum_s64, int64_t, x < y ? x : y)
MF_BINARY_DEF(mf_minimum_f32, float, x < y ? x : y)
