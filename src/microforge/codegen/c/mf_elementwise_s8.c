#include "mf_elementwise_s8.h"

MF_BINARY_DEF(mf_add_s8, int8_t, (int8_t)mf_add_q(p, x, y))
MF_BINARY_DEF(mf_sub_s8, int8_t, (int8_t)mf_sub_q(p, x, y))
MF_BINARY_DEF(mf_mul_s8, int8_t, (int8_t)mf_mul_q(p, x, y))
MF_BINARY_DEF(mf_squared_difference_s8, int8_t, (int8_t)mf_squared_difference_q(p, x, y))
MF_BINARY_DEF_FAST(mf_maximum_s8, int8_t, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_s8, int8_t, x < y ? x : y)
