/* Elementwise binary kernels for int16: quantized ADD / SUB / MUL / SQUARED_DIFFERENCE,
 * MAXIMUM / MINIMUM. */
#ifndef MF_ELEMENTWISE_S16_H
#define MF_ELEMENTWISE_S16_H

#include "mf_elementwise.h"

MF_BINARY_DECL(mf_add_s16, int16_t)
MF_BINARY_DECL(mf_sub_s16, int16_t)
MF_BINARY_DECL(mf_mul_s16, int16_t)
MF_BINARY_DECL(mf_squared_difference_s16, int16_t)
MF_BINARY_DECL(mf_maximum_s16, int16_t)
MF_BINARY_DECL(mf_minimum_s16, int16_t)

#endif
