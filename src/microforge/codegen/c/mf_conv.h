/* CONV_2D and DEPTHWISE_CONV_2D, int8 (per-channel requantization), NHWC.
 * Mirrors runtime/kernels/conv.py. For CONV_2D the input offset is folded into `bias` at compile
 * time (bias[c] + input_offset * sum of channel c's weights), so loops only multiply-accumulate;
 * DEPTHWISE_CONV_2D adds the offset per tap and takes the model's bias unchanged. */
#ifndef MF_CONV_H
#define MF_CONV_H

#include "mf_common.h"

/* Largest CONV_2D output depth (the kernel buffers one output pixel). */
#define MF_CONV_MAX_OUT_C 1024

typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t input_offset;   /* -input zero point: taps outside the image contribute 0 */
    int32_t output_offset;  /* output zero point */
    int32_t act_min, act_max;
    int32_t depth_multiplier; /* depthwise only */
    const int8_t *weights;  /* conv: [out_c][k_h][k_w][in_c]; depthwise: [k_h][k_w][out_c] */
    const int32_t *bias;    /* [out_c]; CONV_2D: input offset folded in */
    const int32_t *multiplier;
    const int32_t *shift;
} mf_conv_s8_params;

void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output);
void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output);

#endif
