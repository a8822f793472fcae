/* Elementwise binary operators with broadcasting: ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
 * SQUARED_DIFFERENCE. Mirrors runtime/kernels/elementwise.py. */
#ifndef MF_ELEMENTWISE_H
#define MF_ELEMENTWISE_H

#include "mf_common.h"

#define MF_BINARY_MAX_DIMS 6

/* Broadcast geometry: the output is `rows` rows of `inner` elements over `ndims` collapsed
 * dimensions; a_stride / b_stride are each operand's element strides (0 where it broadcasts).
 * Quantized variants: input offsets, the input rescale (left shift, multiplier, shift), the
 * output multiplier, and the clamp range relative to the output zero point (lo - zpo, hi - zpo).
 * Integer variants clamp to [lo, hi], float variants to [flo, fhi]. */
typedef struct {
    int32_t ndims, rows, inner;
    int32_t dims[MF_BINARY_MAX_DIMS];
    int32_t a_stride[MF_BINARY_MAX_DIMS];
    int32_t b_stride[MF_BINARY_MAX_DIMS];
    int32_t zp1, zp2, left_shift, m1, s1, m2, s2, mo, so, zpo, lo, hi;
    float flo, fhi;
} mf_binary_params;

#define MF_BINARY_DECL(NAME, T) \
    void NAME(const mf_binary_params *p, const T *a, const T *b, T *out);

MF_BINARY_DECL(mf_add_s8, int8_t)
MF_BINARY_DECL(mf_add_s16, int16_t)
MF_BINARY_DECL(mf_add_s32, int32_t)
MF_BINARY_DECL(mf_add_f32, float)
MF_BINARY_DECL(mf_sub_s8, int8_t)
MF_BINARY_DECL(mf_sub_s16, int16_t)
MF_BINARY_DECL(mf_sub_s32, int32_t)
MF_BINARY_DECL(mf_sub_f32, float)
MF_BINARY_DECL(mf_mul_s8, int8_t)
MF_BINARY_DECL(mf_mul_s16, int16_t)
MF_BINARY_DECL(mf_mul_s32, int32_t)
MF_BINARY_DECL(mf_mul_f32, float)
MF_BINARY_DECL(mf_div_s32, int32_t)
MF_BINARY_DECL(mf_div_f32, float)
MF_BINARY_DECL(mf_squared_difference_s8, int8_t)
MF_BINARY_DECL(mf_squared_difference_s16, int16_t)
MF_BINARY_DECL(mf_squared_difference_s32, int32_t)
MF_BINARY_DECL(mf_squared_difference_f32, float)
MF_BINARY_DECL(mf_maximum_s8, int8_t)
MF_BINARY_DECL(mf_maximum_s16, int16_t)
MF_BINARY_DECL(mf_maximum_s32, int32_t)
MF_BINARY_DECL(mf_maximum_s64, int64_t)
MF_BINARY_DECL(mf_maximum_f32, float)
MF_BINARY_DECL(mf_minimum_s8, int8_t)
MF_BINARY_DECL(mf_minimum_s16, int16_t)
MF_BINARY_DECL(mf_minimum_s32, int32_t)
MF_BINARY_DECL(mf_minimum_s64, int64_t)
MF_BINARY_DECL(mf_minimum_f32, float)

#endif
