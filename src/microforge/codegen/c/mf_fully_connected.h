/* FULLY_CONNECTED int8 and float32. Mirrors runtime/kernels/fully_connected.py. */
#ifndef MF_FULLY_CONNECTED_H
#define MF_FULLY_CONNECTED_H

#include "mf_common.h"

typedef struct {
    int32_t rows, accum, depth;
    int32_t output_offset, act_min, act_max;
    int32_t per_channel;
    const int8_t *weights;      /* [depth][accum], weight offset applied */
    const int32_t *constant;    /* [depth]: bias + input_offset * row sums of weights */
    const int32_t *multiplier;  /* [depth] or [1] */
    const int32_t *shift;
} mf_fc_s8_params;

typedef struct {
    int32_t rows, accum, depth;
    float act_min, act_max;
    const float *weights;  /* [depth][accum] */
    const float *bias;     /* [depth] or NULL */
} mf_fc_f32_params;

void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output);
void mf_fully_connected_f32(const mf_fc_f32_params *p, const float *input, float *output);

#endif
