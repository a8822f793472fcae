/* CONV_2D and DEPTHWISE_CONV_2D, int8 (per-channel requantization), NHWC.
 * Mirrors runtime/kernels/conv.py (TFLM reference integer semantics: the input offset is added to
 * every in-image tap, taps outside the image contribute nothing, then the per-channel
 * MultiplyByQuantizedMultiplier, output offset and activation clamp).
 *
 * Both kernels run per output pixel and per block of MF_CONV_BLOCK output channels: int32
 * accumulators for the block start at the bias, each in-image tap adds (x + offset) * w over the
 * block's channels (contiguous weights: a loop compilers vectorize), then the block is
 * requantized and stored. A pointwise CONV_2D instead copies its input pixel (plus offset) to an
 * int16 row once and takes one dot product per output channel. The planner's in-place analysis
 * (backends/c/ops/conv.py) relies on these orders: all reads of a (pixel, block) step — of a pixel
 * for the pointwise path — happen before its writes.
 * (x + offset) * w always fits int16: |x + offset| <= 255 and |w| <= 127. */
#ifndef MF_CONV_H
#define MF_CONV_H

#include "mf_common.h"

#define MF_CONV_BLOCK 64
/* Largest input depth of the pointwise path (it keeps one input pixel as int16 on the stack). */
#define MF_CONV_MAX_POINTWISE_IN_C 256
/* Largest window (k_h * k_w * in_c) of the DSP matrix-product path: CONV_2D gets a scratch of
 * MF_CONV_COL_BYTES(k) for two int16 columns, and its weights in the layout of mf_conv_dsp.h. */
#define MF_CONV_MAX_COL 2048
#define MF_CONV_COL_BYTES(k) (16 * (((k) + 3) / 4))

/* Whether output and input share bytes (an in-place plan): the DSP / Helium depthwise kernels then
 * hold each block's outputs until the block is read, as the portable loops do. */
static inline int mf_conv_overlap(const int8_t *input, size_t in_bytes, const int8_t *output,
                                  size_t out_bytes) {
    const uintptr_t i = (uintptr_t)input, o = (uintptr_t)output;
    return o < i + in_bytes && i < o + out_bytes;
}

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    int32_t act_min, act_max;
    int32_t depth_multiplier; /* depthwise only */
    int32_t pointwise;      /* conv: 1x1, stride 1, no padding, in_c <= MF_CONV_MAX_POINTWISE_IN_C */
    const int8_t *weights;  /* conv: [k_h][k_w][in_c][out_c] (pointwise: [out_c][in_c]);
                               depthwise: [k_h][k_w][out_c] */
    const int32_t *bias;    /* [out_c] (zeros when the model has none) */
    const int32_t *multiplier;
    const int32_t *left_shift;   /* [out_c] max(shift, 0) */
    const int32_t *right_shift;  /* [out_c] max(-shift, 0) */
} mf_conv_s8_params;

/* col: scratch of MF_CONV_COL_BYTES(k_h * k_w * in_c) bytes, or NULL (window too large); only the
 * DSP variant uses it, and then reads the weights in its own layout (mf_conv_dsp.h). */
void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output, int16_t *col);
void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output);

#endif
