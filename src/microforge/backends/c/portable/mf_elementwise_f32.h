/* Elementwise binary kernels for float32: one rounding per operation, then min(max(v, lo), hi)
 * with std::min/max semantics (NaN passes, infinities clamp to the range). */
#ifndef MF_ELEMENTWISE_F32_H
#define MF_ELEMENTWISE_F32_H

#include "mf_elementwise.h"

MF_BINARY_DECL(mf_add_f32, float)
MF_BINARY_DECL(mf_sub_f32, float)
MF_BINARY_DECL(mf_mul_f32, float)
MF_BINARY_DECL(mf_div_f32, float)
MF_BINARY_DECL(mf_squared_difference_f32, float)
MF_BINARY_DECL(mf_maximum_f32, float)
MF_BINARY_DECL(mf_minimum_f32, float)

#endif
