/* Elementwise activations for float32 and int16 (int8 inputs use mf_lut tables instead), and the
 * int16 / float sigmoid and tanh shared with the LSTM kernel. Mirrors fixedpoint.py
 * (logistic_int16_lut, tanh_int16_lut), runtime/kernels/logistic_tanh.py and activations.py.
 *
 * Float sigmoid / tanh call the C library's expf / tanhf: the Python runtime reproduces glibc's,
 * so results are byte-identical on a glibc host; another libm (a device's) may differ by an ulp
 * (the Cortex-M builds link targets/cortex_m/mf_libm.c, glibc's algorithms). On SSE2 hosts the
 * array kernels mf_logistic_f32 / mf_tanh_f32 run those algorithms four lanes at a time instead
 * (x86_sse2/mf_activations_sse2.h; bit-identical to glibc for every float input, checked
 * exhaustively). */
#ifndef MF_ACTIVATIONS_H
#define MF_ACTIVATIONS_H

#include <float.h>
#include <math.h>

#include "mf_common.h"

/* sigmoid(i / 24) in unsigned Q0.16 for i = 0..255 (TFLM's sigmoid_table_uint16). */
extern const uint16_t mf_sigmoid_table_u16[256];

/* The LUT kernels' input rescaling: (x * multiplier + rounding) >> shift with the product wrapped
 * to int32 as in TFLM. A power-of-two input scale arrives as multiplier 3 << k with shift 0. */
static inline int32_t mf_lut16_prescale(int32_t x, int32_t multiplier, int shift) {
    const uint32_t rounding = shift > 0 ? (uint32_t)1 << (shift - 1) : 0u;
    return (int32_t)((uint32_t)x * (uint32_t)multiplier + rounding) >> shift;
}

/* Interpolated sigmoid table at |v| / 2^frac_bits, scaled by 2^frac_bits; *saturated when the
 * table index passes its last interval. */
static inline int32_t mf_lut16_interpolate(int32_t v, int frac_bits, int *saturated) {
    const uint32_t magnitude = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    const uint32_t index = magnitude >> frac_bits;
    int32_t low, high, frac;
    *saturated = index >= 255u;
    if (*saturated) {
        return 0;
    }
    low = mf_sigmoid_table_u16[index];
    high = mf_sigmoid_table_u16[index + 1u];
    frac = (int32_t)(magnitude & (((uint32_t)1 << frac_bits) - 1u));
    return low * ((int32_t)1 << frac_bits) + frac * (high - low);
}

/* TFLM's int16 logistic of a prescaled input (Q3.12 times 3 for the LSTM gates); Q0.15 out. */
static inline int16_t mf_logistic_s16_value(int32_t v) {
    int saturated;
    int32_t value = mf_lut16_interpolate(v, 9, &saturated);
    if (saturated) {
        value = (int32_t)0x7FFF << 10;
    }
    value = v >= 0 ? value + (1 << 9) : ((int32_t)1 << 25) - value + (1 << 9) - 1;
    return (int16_t)(value >> 10);
}

/* TFLM's int16 tanh of a prescaled input (the sigmoid table read at 2x); Q0.15 out. */
static inline int16_t mf_tanh_s16_value(int32_t v) {
    int saturated;
    int32_t value = mf_lut16_interpolate(v, 8, &saturated);
    if (saturated) {
        value = (int32_t)0xFFFF << 8;
    }
    value = v >= 0 ? value - ((int32_t)1 << 23) + (1 << 7)
                   : ((int32_t)1 << 23) + (1 << 7) - 1 - value;
    return (int16_t)(value >> 8);
}

/* TFLM's float logistic: 1 above 16.619047, expf(x) below -9, else 1 / (1 + expf(-x)). */
static inline float mf_sigmoidf(float x) {
    if (x > 16.619047164916992188f) {
        return 1.0f;
    }
    if (x < -9.0f) {
        return expf(x);
    }
    return 1.0f / (1.0f + expf(-x));
}

/* Clamp to +-FLT_MAX (NaN passes through), as TFLM's float LSTM products and sums are. */
static inline float mf_clamp_flt_max(float v) {
    return v < -FLT_MAX ? -FLT_MAX : (v > FLT_MAX ? FLT_MAX : v);
}

/* The same clamp on the bits: only +-inf changes, and its bits minus one are +-FLT_MAX. In a loop
 * gcc vectorizes this into three integer instructions per four floats. */
static inline float mf_clamp_flt_max_bits(float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof(u));
    u -= (uint32_t)((u & 0x7FFFFFFFu) == 0x7F800000u);
    memcpy(&v, &u, sizeof(v));
    return v;
}

typedef struct {
    int32_t multiplier; /* prescale multiplier (power-of-two scales: 3 << k) */
    int32_t shift;      /* prescale right shift */
} mf_lut16_params;

/* int16 ReLU family: the ReLU requantization, the RELU6 clamp, LEAKY_RELU's two multipliers. */
typedef struct {
    int32_t zp_in, zp_out, lo, hi;
    int32_t multiplier, shift;              /* identity branch (RELU, LEAKY_RELU x >= zp) */
    int32_t alpha_multiplier, alpha_shift;  /* LEAKY_RELU x < zp: |multiplier| */
    int32_t alpha_negative;                 /* LEAKY_RELU: negate the alpha branch */
} mf_act_s16_params;

/* All kernels read each element before writing it, so input and output may be the same buffer. */
void mf_logistic_s16(const mf_lut16_params *p, const int16_t *input, int16_t *output, int32_t n);
void mf_tanh_s16(const mf_lut16_params *p, const int16_t *input, int16_t *output, int32_t n);
void mf_relu_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output, int32_t n);
void mf_relu6_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output, int32_t n);
void mf_leaky_relu_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output,
                       int32_t n);

void mf_logistic_f32(const float *input, float *output, int32_t n);
void mf_tanh_f32(const float *input, float *output, int32_t n);
void mf_relu_f32(const float *input, float *output, int32_t n);
void mf_relu6_f32(const float *input, float *output, int32_t n);
void mf_leaky_relu_f32(float alpha, const float *input, float *output, int32_t n);
void mf_hard_swish_f32(const float *input, float *output, int32_t n);

#endif
