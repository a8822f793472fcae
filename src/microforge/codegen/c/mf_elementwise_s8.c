#include "mf_elementwise_s8.h"

MF_BINARY_DEF(mf_add_s8, int8_t, (int8_t)mf_add_q(p, x, y))
MF_BINARY_DEF(mf_sub_s8, int8_t, (int8_t)mf_sub_q(p, x, y))
/* ADD and SUB with each input's rescaled value read from a 256-entry table (SUB negates the
 * second table: no entry is INT32_MIN, so the wrapping sum is the same). */
MF_BINARY_DEF(mf_add_s8_table, int8_t,
              (int8_t)mf_requantize_output(p, mf_wrap_add(p->table1[(int32_t)x + 128],
                                                          p->table2[(int32_t)y + 128])))
MF_BINARY_DEF(mf_mul_s8, int8_t, (int8_t)mf_mul_q(p, x, y))
MF_BINARY_DEF(mf_squared_difference_s8, int8_t, (int8_t)mf_squared_difference_q(p, x, y))
MF_BINARY_DEF_FAST(mf_maximum_s8, int8_t, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_s8, int8_t, x < y ? x : y)
