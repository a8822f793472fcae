/* AVERAGE_POOL_2D / MAX_POOL_2D for int8, NHWC. Mirrors runtime/kernels/pooling.py. */
#ifndef MF_POOLING_H
#define MF_POOLING_H

#include "mf_common.h"

typedef struct {
    int32_t in_h, in_w, channels, out_h, out_w;
    int32_t k_h, k_w, stride_h, stride_w, pad_top, pad_left;
    int32_t act_min, act_max;
} mf_pool_s8_params;

void mf_average_pool_s8(const mf_pool_s8_params *p, const int8_t *input, int8_t *output);
void mf_max_pool_s8(const mf_pool_s8_params *p, const int8_t *input, int8_t *output);

#endif
