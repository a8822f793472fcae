/* int8 dot products through the DSP extension's 32-bit SIMD multiply-accumulates (arm_dsp/),
 * shared by the convolution and fully connected variants. Integer sums are exact, so they return
 * the same bits as the portable loops they replace. */
#ifndef MF_DOT_DSP_H
#define MF_DOT_DSP_H

#include "mf_common.h"

#if MF_USE_DSP

static inline uint32_t mf_dsp_load4(const int8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Bytes 1 and 3 of v, sign-extended into two int16 halves (bytes 0 and 2: __sxtb16(v)). */
static inline int16x2_t mf_dsp_sxtb16_odd(uint32_t v) {
#if defined(__GNUC__)
    int16x2_t out; /* one SXTB16 with its rotation, which gcc does not fold in by itself */
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(out) : "r"(v));
    return out;
#else
    return __sxtb16((v >> 8) | (v << 24));
#endif
}

/* acc + sum of x[i] * w[i] for i < n. */
static inline int32_t mf_dsp_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc) {
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = mf_dsp_load4(x + i);
        const uint32_t wv = mf_dsp_load4(w + i);
        acc = __smlad(__sxtb16(xv), __sxtb16(wv), acc);
        acc = __smlad(mf_dsp_sxtb16_odd(xv), mf_dsp_sxtb16_odd(wv), acc);
    }
    for (; i < n; ++i) {
        acc += (int32_t)x[i] * (int32_t)w[i];
    }
    return acc;
}

/* Two dot products sharing x: acc[0] += x . w0, acc[1] += x . w1. */
static inline void mf_dsp_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n,
                              int32_t *acc) {
    int32_t a0 = acc[0], a1 = acc[1];
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32_t xv = mf_dsp_load4(x + i);
        const int16x2_t x02 = __sxtb16(xv);
        const int16x2_t x13 = mf_dsp_sxtb16_odd(xv);
        const uint32_t v0 = mf_dsp_load4(w0 + i);
        const uint32_t v1 = mf_dsp_load4(w1 + i);
        a0 = __smlad(x02, __sxtb16(v0), a0);
        a0 = __smlad(x13, mf_dsp_sxtb16_odd(v0), a0);
        a1 = __smlad(x02, __sxtb16(v1), a1);
        a1 = __smlad(x13, mf_dsp_sxtb16_odd(v1), a1);
    }
    for (; i < n; ++i) {
        a0 += (int32_t)x[i] * (int32_t)w0[i];
        a1 += (int32_t)x[i] * (int32_t)w1[i];
    }
    acc[0] = a0;
    acc[1] = a1;
}
#endif

#endif
