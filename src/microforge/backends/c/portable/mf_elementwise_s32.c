#include "mf_elementwise_s32.h"

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

/* The common shape first: one row (the whole tensor) with `a` contiguous and `b` one scalar
 * (a constant operand), as plain loops over locals that gcc vectorizes. `out` may be `a`. Other
 * shapes: the broadcast walk. MF_S32_DEF clamps to [lo, hi] (CalculateActivationRange<int32>),
 * skipped when that is the whole int32 range; MF_S32_DEF_UNCLAMPED (MAXIMUM, MINIMUM) does not. */
#define MF_S32_FLAT(NAME)                                                                  \
    const int32_t last = p->ndims - 1, n = p->inner;                                       \
    int32_t i;                                                                             \
    if (p->rows != 1 || p->a_stride[last] != 1 || p->b_stride[last] != 0) {               \
        NAME##_walk(p, a, b, out);                                                         \
        return;                                                                            \
    }

#define MF_S32_LOOP(EXPR)                                                                  \
    {                                                                                      \
        const int32_t y = *b;                                                              \
        for (i = 0; i < n; ++i) {                                                          \
            const int32_t x = a[i];                                                        \
            out[i] = (EXPR);                                                               \
        }                                                                                  \
    }

#define MF_S32_DEF(NAME, EXPR)                                                             \
    static MF_BINARY_DEF_FAST(NAME##_walk, int32_t, mf_clamp(EXPR, p->lo, p->hi))          \
    void NAME(const mf_binary_params *p, const int32_t *a, const int32_t *b, int32_t *out) { \
        const int32_t lo = p->lo, hi = p->hi;                                              \
        MF_S32_FLAT(NAME)                                                                  \
        if (lo == INT32_MIN && hi == INT32_MAX) {                                          \
            MF_S32_LOOP(EXPR)                                                              \
        } else {                                                                           \
            MF_S32_LOOP(mf_clamp(EXPR, lo, hi))                                            \
        }                                                                                  \
    }

#define MF_S32_DEF_UNCLAMPED(NAME, EXPR)                                                   \
    static MF_BINARY_DEF_FAST(NAME##_walk, int32_t, EXPR)                                  \
    void NAME(const mf_binary_params *p, const int32_t *a, const int32_t *b, int32_t *out) { \
        MF_S32_FLAT(NAME)                                                                  \
        MF_S32_LOOP(EXPR)                                                                  \
    }

MF_S32_DEF(mf_add_s32, mf_wrap_add(x, y))
MF_S32_DEF(mf_sub_s32, mf_wrap_sub(x, y))
MF_S32_DEF(mf_mul_s32, (int32_t)((uint32_t)x * (uint32_t)y))
MF_BINARY_DEF_FAST(mf_squared_difference_s32, int32_t, mf_squared_difference_s32_value(x, y))
MF_S32_DEF_UNCLAMPED(mf_maximum_s32, x > y ? x : y)
MF_S32_DEF_UNCLAMPED(mf_minimum_s32, x < y ? x : y)
MF_BINARY_DEF_FAST(mf_maximum_s64, int64_t, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_s64, int64_t, x < y ? x : y)

static MF_BINARY_DEF(mf_div_s32_walk, int32_t, mf_clamp(mf_div_s32_value(x, y), p->lo, p->hi))

/* DIV by one scalar: the divisor's special cases decided once. */
void mf_div_s32(const mf_binary_params *p, const int32_t *a, const int32_t *b, int32_t *out) {
    const int32_t lo = p->lo, hi = p->hi, y = *b;
    MF_S32_FLAT(mf_div_s32)
    if (y == 0 || y == -1) {
        for (i = 0; i < n; ++i) {
            out[i] = mf_clamp(mf_div_s32_value(a[i], y), lo, hi);
        }
    } else if (lo == INT32_MIN && hi == INT32_MAX) {
        for (i = 0; i < n; ++i) {
            out[i] = a[i] / y;
        }
    } else {
        for (i = 0; i < n; ++i) {
            out[i] = mf_clamp(a[i] / y, lo, hi);
        }
    }
}
