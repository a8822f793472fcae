#include "mf_elementwise_s16.h"

MF_BINARY_DEF(mf_add_s16, int16_t, (int16_t)mf_add_q(p, x, y))
MF_BINARY_DEF(mf_sub_s16, int16_t, (int16_t)mf_sub_q(p, x, y))
MF_BINARY_DEF(mf_mul_s16, int16_t, (int16_t)mf_mul_q(p, x, y))
MF_BINARY_DEF(mf_squared_difference_s16, int16_t, (int16_t)mf_squared_difference_q(p, x, y))
MF_BINARY_DEF_FAST(mf_maximum_s16, int16_t, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_s16, int16_t, x < y ? x : y)
