/* PRELU: out = x >= 0 ? x : x * alpha, alpha broadcast against x. Mirrors
 * runtime/kernels/prelu.py (TFLM's BroadcastPrelu4DSlow). */
#ifndef MF_PRELU_H
#define MF_PRELU_H

#include "mf_common.h"

#define MF_PRELU_MAX_DIMS 4

/* Broadcast geometry: the output is `rows` rows of `inner` elements over `ndims` collapsed
 * dimensions; x_stride / a_stride are the input's and alpha's element strides (0 where they
 * broadcast). Quantized variants: v = x - zp_in; v >= 0 gives MultiplyByQuantizedMultiplier(v)
 * with (m1, shift l1 - r1), else of v * (alpha - zp_alpha) with (m2, shift l2 - r2), through
 * mf_requantize (the multipliers are non-negative, the shifts split into left and right parts);
 * plus zp_out, clamped to [lo, hi]. */
typedef struct {
    int32_t ndims, rows, inner;
    int32_t dims[MF_PRELU_MAX_DIMS];
    int32_t x_stride[MF_PRELU_MAX_DIMS];
    int32_t a_stride[MF_PRELU_MAX_DIMS];
    int32_t zp_in, zp_alpha, zp_out, m1, l1, r1, m2, l2, r2, lo, hi;
} mf_prelu_params;

void mf_prelu_f32(const mf_prelu_params *p, const float *x, const float *alpha, float *out);
void mf_prelu_s8(const mf_prelu_params *p, const int8_t *x, const int8_t *alpha, int8_t *out);
void mf_prelu_s16(const mf_prelu_params *p, const int16_t *x, const int8_t *alpha,
                  int16_t *out);

#endif
