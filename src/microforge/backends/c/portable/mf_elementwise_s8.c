#include "mf_elementwise_s8.h"

/* TFLM's DivElementwise: the divisor's reciprocal from GetReciprocal (a zero divisor gives the
 * reciprocal of 0 + 1 with exponent -1, as the int64 arithmetic of the runtime computes it), the
 * dividend normalised by its leading sign bits, one rescale with the combined shift; exponents of
 * 32 and more as the x86-64 build evaluates them. The emitter guarantees exponent >= 0. */
static inline int32_t mf_div_q(const mf_binary_params *p, int32_t x, int32_t y) {
    int32_t a = x - p->zp1, b = y - p->zp2;
    int32_t recip, headroom, scaled, exponent;
    int recip_shift;
    if (b < 0) {
        a = -a;
        b = -b;
    }
    if (b == 0) {
        recip = mf_one_over_one_plus_x(INT32_MIN);
        recip_shift = -1;
    } else {
        recip = mf_get_reciprocal(b, 31, &recip_shift);
    }
    headroom = mf_clz32((uint32_t)(a < 0 ? ~a : a)) - 1;
    scaled = mf_srdhm(mf_srdhm((int32_t)((uint32_t)a << headroom), recip), p->mo);
    exponent = headroom + recip_shift - (p->out_left - p->out_right);
    if (exponent >= 32) {
        scaled = (scaled >> (exponent & 31)) + (scaled >= 0 ? 1 : 0);
    } else {
        scaled = mf_rdbypot(scaled, exponent);
    }
    return mf_clamp(scaled, p->lo, p->hi) + p->zpo;
}

MF_BINARY_DEF(mf_add_s8, int8_t, (int8_t)mf_add_q(p, x, y))
MF_BINARY_DEF(mf_sub_s8, int8_t, (int8_t)mf_sub_q(p, x, y))
/* ADD and SUB with each input's rescaled value read from a 256-entry table (SUB negates the
 * second table: no entry is INT32_MIN, so the wrapping sum is the same). */
MF_BINARY_DEF(mf_add_s8_table, int8_t,
              (int8_t)mf_requantize_output(p, mf_wrap_add(p->table1[(int32_t)x + 128],
                                                          p->table2[(int32_t)y + 128])))
MF_BINARY_DEF(mf_mul_s8, int8_t, (int8_t)mf_mul_q(p, x, y))
MF_BINARY_DEF(mf_div_s8, int8_t, (int8_t)mf_div_q(p, x, y))
MF_BINARY_DEF(mf_squared_difference_s8, int8_t, (int8_t)mf_squared_difference_q(p, x, y))
MF_BINARY_DEF_FAST(mf_maximum_s8, int8_t, x > y ? x : y)
MF_BINARY_DEF_FAST(mf_minimum_s8, int8_t, x < y ? x : y)
