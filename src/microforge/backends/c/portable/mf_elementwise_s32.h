/* Elementwise binary kernels for int32 (and int64 MAXIMUM / MINIMUM): wrapping arithmetic
 * clamped to CalculateActivationRange<int32>. */
#ifndef MF_ELEMENTWISE_S32_H
#define MF_ELEMENTWISE_S32_H

#include "mf_elementwise.h"

MF_BINARY_DECL(mf_add_s32, int32_t)
MF_BINARY_DECL(mf_sub_s32, int32_t)
MF_BINARY_DECL(mf_mul_s32, int32_t)
MF_BINARY_DECL(mf_div_s32, int32_t)
MF_BINARY_DECL(mf_squared_difference_s32, int32_t)
MF_BINARY_DECL(mf_maximum_s32, int32_t)
MF_BINARY_DECL(mf_maximum_s64, int64_t)
MF_BINARY_DECL(mf_minimum_s32, int32_t)
MF_BINARY_DECL(mf_minimum_s64, int64_t)

#endif
