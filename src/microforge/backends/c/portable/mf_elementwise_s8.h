/* Elementwise binary kernels for int8: quantized ADD / SUB / MUL / DIV / SQUARED_DIFFERENCE,
 * MAXIMUM / MINIMUM. */
#ifndef MF_ELEMENTWISE_S8_H
#define MF_ELEMENTWISE_S8_H

#include "mf_elementwise.h"

MF_BINARY_DECL(mf_add_s8, int8_t)
MF_BINARY_DECL(mf_sub_s8, int8_t)
MF_BINARY_DECL(mf_add_s8_table, int8_t)
MF_BINARY_DECL(mf_mul_s8, int8_t)
MF_BINARY_DECL(mf_div_s8, int8_t)
MF_BINARY_DECL(mf_squared_difference_s8, int8_t)
MF_BINARY_DECL(mf_maximum_s8, int8_t)
MF_BINARY_DECL(mf_minimum_s8, int8_t)

#endif
