#include "mf_quantize.h"

#include <math.h>

/* Element i is read before it is written: input and output may share bytes when both types have
 * the same width. The multiplier is non-negative (mf_requantize); the params are read once into
 * locals (stores through an int8 pointer could alias them). */
#define MF_REQUANTIZE(NAME, IN_T, OUT_T)                                                    \
    void NAME(const mf_requantize_params *p, const IN_T *x, OUT_T *y, int32_t n) {          \
        const int32_t multiplier = p->multiplier, input_zp = p->input_zp;                   \
        const int32_t output_zp = p->output_zp, lo = p->out_min, hi = p->out_max;           \
        const int32_t left = MF_MAX(p->shift, 0), right = MF_MAX(-p->shift, 0);             \
        int32_t i;                                                                          \
        for (i = 0; i < n; ++i) {                                                           \
            int32_t v = mf_wrap_sub((int32_t)x[i], input_zp);                               \
            v = mf_wrap_add(mf_requantize(v, multiplier, left, right), output_zp);          \
            y[i] = (OUT_T)mf_clamp(v, lo, hi);                                              \
        }                                                                                   \
    }

MF_REQUANTIZE(mf_requantize_u8_s8, uint8_t, int8_t)
MF_REQUANTIZE(mf_requantize_s16_s8, int16_t, int8_t)
MF_REQUANTIZE(mf_requantize_s16_s16, int16_t, int16_t)
MF_REQUANTIZE(mf_requantize_s16_s32, int16_t, int32_t)
MF_REQUANTIZE(mf_requantize_s32_s8, int32_t, int8_t)
MF_REQUANTIZE(mf_requantize_s32_s16, int32_t, int16_t)

/* roundf halves away from zero; the conversion to int32 follows x86-64 (cvttss2si): NaN and
 * values outside the int32 range give INT32_MIN. */
#define MF_AFFINE_QUANTIZE(NAME, OUT_T)                                                     \
    void NAME(const mf_affine_quantize_params *p, const float *x, OUT_T *y, int32_t n) {    \
        int32_t i;                                                                          \
        for (i = 0; i < n; ++i) {                                                           \
            const float r = roundf(x[i] / p->scale);                                        \
            const int32_t q = (r >= -2147483648.0f && r < 2147483648.0f) ? (int32_t)r        \
                                                                          : INT32_MIN;      \
            y[i] = (OUT_T)mf_clamp(mf_wrap_add(q, p->zero_point), p->out_min, p->out_max);  \
        }                                                                                   \
    }

MF_AFFINE_QUANTIZE(mf_affine_quantize_f32_s8, int8_t)
MF_AFFINE_QUANTIZE(mf_affine_quantize_f32_s16, int16_t)

#define MF_DEQUANTIZE(NAME, IN_T)                                                           \
    void NAME(const mf_dequantize_params *p, const IN_T *x, float *y, int32_t n) {          \
        const double scale = (double)p->scale;                                              \
        int32_t i;                                                                          \
        for (i = 0; i < n; ++i) {                                                           \
            y[i] = (float)(scale * (double)((int32_t)x[i] - p->zero_point));                \
        }                                                                                   \
    }

MF_DEQUANTIZE(mf_dequantize_u8_f32, uint8_t)
MF_DEQUANTIZE(mf_dequantize_s16_f32, int16_t)
