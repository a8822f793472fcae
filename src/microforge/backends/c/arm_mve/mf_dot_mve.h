/* Shared Helium (MVE) helpers of the arm_mve/ kernels: TFLM's requantization of four int32 sums
 * at once, and short copies / fills with tail predication. */
#ifndef MF_DOT_MVE_H
#define MF_DOT_MVE_H

#include "mf_common.h"

#if MF_USE_MVE

/* MultiplyByQuantizedMultiplier on four lanes, bit-exact with mf_requantize: the wrapping left
 * shift (VSHL), SaturatingRoundingDoublingHighMul (VQRDMULH: (2ab + 2^31) >> 32, saturating
 * exactly where gemmlowp does), and RoundingDivideByPOT as VRSHL (round half up, no overflow)
 * of x - 1 where x < 0 and the shift is a right shift (half away from zero); the saturating
 * subtraction keeps INT32_MIN, whose quotient is exact. right_neg = -max(-shift, 0). */
static inline int32x4_t mf_mve_requantize(int32x4_t acc, int32x4_t mult, int32x4_t left,
                                          int32x4_t right_neg) {
    int32x4_t x = vqrdmulhq_s32(vshlq_s32(acc, left), mult);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, right_neg), 31));
    return vrshlq_s32(x, right_neg);
}

/* The per-channel output stage of four channels c..c+3 (n of them stored, n <= 4): requantize,
 * add the output zero point, clamp to the activation range, store the low bytes. */
static inline void mf_mve_store4(int32x4_t acc, const int32_t *mult, const int32_t *left,
                                 const int32_t *right, int32_t out_offset, int32_t lo, int32_t hi,
                                 int8_t *out, int32_t n) {
    const mve_pred16_t p = vctp32q((uint32_t)n);
    int32x4_t v = mf_mve_requantize(acc, vldrwq_z_s32(mult, p), vldrwq_z_s32(left, p),
                                    vnegq_s32(vldrwq_z_s32(right, p)));
    v = vminq_s32(vmaxq_s32(vaddq_n_s32(v, out_offset), vdupq_n_s32(lo)), vdupq_n_s32(hi));
    vstrbq_p_s32(out, v, p);
}

/* dst[0..n) = src[0..n). */
static inline void mf_mve_copy(int8_t *dst, const int8_t *src, int32_t n) {
    for (; n > 0; n -= 16, dst += 16, src += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, p), p);
    }
}

/* dst[0..n) = v. */
static inline void mf_mve_fill(int8_t *dst, int8_t v, int32_t n) {
    const int8x16_t vv = vdupq_n_s8(v);
    for (; n > 0; n -= 16, dst += 16) {
        vstrbq_p_s8(dst, vv, vctp8q((uint32_t)n));
    }
}

/* a[j] += x . w_j over n int8 (w_j = w + j * stride), sixteen products per VMLADAVA; the last
 * partial chunk predicated (its other lanes load as zero). */
static inline void mf_mve_dot4(const int8_t *x, const int8_t *w, int32_t stride, int32_t n,
                               int32_t *a) {
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const int8_t *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    const int32_t n16 = n & ~15;
    int32_t k;
    for (k = 0; k < n16; k += 16) {
        const int8x16_t xv = vldrbq_s8(x + k);
        a0 = vmladavaq_s8(a0, xv, vldrbq_s8(w + k));
        a1 = vmladavaq_s8(a1, xv, vldrbq_s8(w1 + k));
        a2 = vmladavaq_s8(a2, xv, vldrbq_s8(w2 + k));
        a3 = vmladavaq_s8(a3, xv, vldrbq_s8(w3 + k));
    }
    if (k < n) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - k));
        const int8x16_t xv = vldrbq_z_s8(x + k, p);
        a0 = vmladavaq_s8(a0, xv, vldrbq_z_s8(w + k, p));
        a1 = vmladavaq_s8(a1, xv, vldrbq_z_s8(w1 + k, p));
        a2 = vmladavaq_s8(a2, xv, vldrbq_z_s8(w2 + k, p));
        a3 = vmladavaq_s8(a3, xv, vldrbq_z_s8(w3 + k, p));
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}
#endif

#endif
