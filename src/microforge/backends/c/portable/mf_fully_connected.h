/* FULLY_CONNECTED int8 and float32. Mirrors runtime/kernels/fully_connected.py. */
#ifndef MF_FULLY_CONNECTED_H
#define MF_FULLY_CONNECTED_H

#include "mf_common.h"

typedef struct {
    int32_t rows, accum, depth;
    int32_t chunk;              /* input elements widened to int16 at a time (the scratch) */
    int32_t output_offset, act_min, act_max;
    int32_t channel_mask;       /* -1 with per-channel multipliers, 0 with one multiplier */
    const int8_t *weights;      /* [depth][accum], weight offset applied */
    const int32_t *constant;    /* [depth]: bias + input_offset * row sums of weights */
    const int32_t *multiplier;  /* [depth] or [1], non-negative */
    const int32_t *left_shift;  /* max(shift, 0) */
    const int32_t *right_shift; /* max(-shift, 0) */
} mf_fc_s8_params;

typedef struct {
    int32_t rows, accum, depth;
    int32_t stride;        /* depth rounded up to a multiple of 4 */
    float act_min, act_max;
    const float *weights;  /* [accum][stride]: one row per input element, zero past depth */
    const float *bias;     /* [stride], zeros past depth; zeros without a bias tensor (TFLM adds 0.0f) */
} mf_fc_f32_params;

/* row: scratch of min(accum, chunk) int16 (the input row widened for the dot products). */
void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output,
                           int16_t *row);
void mf_fully_connected_f32(const mf_fc_f32_params *p, const float *input, float *output);

/* The int8 kernel in pieces, for a producer that writes the input a slice at a time (a
 * convolution fused with the FULLY_CONNECTED it feeds, rows == 1): acc[o] += x[0..n) .
 * weights[o][k0..k0 + n) for every output o (acc zeroed by the caller first; row: scratch as for
 * mf_fully_connected_s8), then mf_fc_s8_finish requantizes the finished sums as
 * mf_fully_connected_s8 does. Integer sums are exact, so the result equals the one-piece kernel's
 * whatever the slices. */
void mf_fc_s8_accumulate(const mf_fc_s8_params *p, const int8_t *x, int32_t k0, int32_t n,
                         int16_t *row, int32_t *acc);
void mf_fc_s8_finish(const mf_fc_s8_params *p, const int32_t *acc, int8_t *output);

/* sums[o] = x[0] * w[o] + x[1] * w[stride + o] + ... + x[n-1] * w[(n-1) * stride + o] for
 * o < count, each sum sequential in float32 from 0.0f (TFLM's order). w has rows of stride
 * elements, stride >= count rounded up to a multiple of 4 (the columns past count are read, so
 * they must exist; zero them). Many outputs advance per pass over x, four per vector instruction
 * (SSE2 intrinsics on the host, blocks the compiler vectorizes elsewhere). */
void mf_matvec_f32(const float *x, const float *w, int32_t n, int32_t stride, int32_t count,
                   float *sums);

#endif
