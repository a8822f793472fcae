/* QUANTIZE / DEQUANTIZE of non-int8 inputs (int8 inputs use a lookup table). Mirrors runtime/kernels/quantize.py. */
#ifndef MF_QUANTIZE_H
#define MF_QUANTIZE_H

#include "mf_common.h"

/* Requantize: clamp(wrap(mbqm(wrap(x - input_zp), multiplier, shift) + output_zp), min, max). */
typedef struct {
    int32_t multiplier, shift, input_zp, output_zp, out_min, out_max;
} mf_requantize_params;

/* AffineQuantize: clamp(wrap(int32(roundf(x / scale)) + zero_point), min, max). */
typedef struct {
    float scale;
    int32_t zero_point, out_min, out_max;
} mf_affine_quantize_params;

/* Dequantize: (float)((double)scale * (x - zero_point)). */
typedef struct {
    float scale;
    int32_t zero_point;
} mf_dequantize_params;

void mf_requantize_u8_s8(const mf_requantize_params *p, const uint8_t *x, int8_t *y, int32_t n);
void mf_requantize_s16_s8(const mf_requantize_params *p, const int16_t *x, int8_t *y, int32_t n);
void mf_requantize_s16_s16(const mf_requantize_params *p, const int16_t *x, int16_t *y, int32_t n);
void mf_requantize_s16_s32(const mf_requantize_params *p, const int16_t *x, int32_t *y, int32_t n);
void mf_requantize_s32_s8(const mf_requantize_params *p, const int32_t *x, int8_t *y, int32_t n);
void mf_requantize_s32_s16(const mf_requantize_params *p, const int32_t *x, int16_t *y, int32_t n);

void mf_affine_quantize_f32_s8(const mf_affine_quantize_params *p, const float *x, int8_t *y,
                               int32_t n);
void mf_affine_quantize_f32_s16(const mf_affine_quantize_params *p, const float *x, int16_t *y,
                                int32_t n);

void mf_dequantize_u8_f32(const mf_dequantize_params *p, const uint8_t *x, float *y, int32_t n);
void mf_dequantize_s16_f32(const mf_dequantize_params *p, const int16_t *x, float *y, int32_t n);

#endif
