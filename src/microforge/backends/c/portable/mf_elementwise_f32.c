#include "mf_elementwise_f32.h"

static inline float mf_clampf(float v, float lo, float hi) {
    v = v < lo ? lo : v;
    return hi < v ? hi : v;
}

static inline float mf_squared_difference_f32_value(float x, float y) {
    const float d = x - y;
    return d * d;
}

MF_BINARY_DEF_FAST(mf_add_f32, float, mf_clampf(x + y, p->flo, p->fhi))
MF_BINARY_DEF_FAST(mf_sub_f32, float, mf_clampf(x - y, p->flo, p->fhi))
MF_BINARY_DEF_FAST(mf_mul_f32, float, mf_clampf(x * y, p->flo, p->fhi))
MF_BINARY_DEF_FAST(mf_div_f32, float, mf_clampf(x / y, p->flo, p->fhi))
MF_BINARY_DEF_FAST(mf_squared_difference_f32, float, mf_squared_difference_f32_value(x, y))
MF_BINARY_DEF_FAST(mf_maximum_f32, float, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_f32, float, x < y ? x : y)
