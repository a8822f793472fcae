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

MF_BINARY_DEF_FAST(mf_add_s32, int32_t, mf_clamp(mf_wrap_add(x, y), p->lo, p->hi))
MF_BINARY_DEF_FAST(mf_sub_s32, int32_t, mf_clamp(mf_wrap_sub(x, y), p->lo, p->hi))
MF_BINARY_DEF_FAST(mf_mul_s32, int32_t,
                   mf_clamp((int32_t)((uint32_t)x * (uint32_t)y), p->lo, p->hi))
MF_BINARY_DEF(mf_div_s32, int32_t, mf_clamp(mf_div_s32_value(x, y), p->lo, p->hi))
MF_BINARY_DEF_FAST(mf_squared_difference_s32, int32_t, mf_squared_difference_s32_value(x, y))
MF_BINARY_DEF_FAST(mf_maximum_s32, int32_t, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_s32, int32_t, x < y ? x : y)
MF_BINARY_DEF_FAST(mf_maximum_s64, int64_t, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_s64, int64_t, x < y ? x : y)
