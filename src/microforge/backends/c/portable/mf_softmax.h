/* SOFTMAX int8 -> int8/int16 (gemmlowp fixed point, exp tabulated at compile time) and float32.
 * Mirrors runtime/kernels/softmax.py. */
#ifndef MF_SOFTMAX_H
#define MF_SOFTMAX_H

#include "mf_common.h"

typedef struct {
    int32_t rows, depth;
    int32_t min_index;       /* d + 255 below this: output minimum (TFLM's diff_min) */
    const int32_t *exp;      /* [256] Q0.31 exp for d = x - row max, index d + 255 */
    const int32_t *summand;  /* [256] the same in Q12.19, 0 below min_index */
} mf_softmax_s8_params;

typedef struct {
    int32_t rows, depth;
    float beta;
} mf_softmax_f32_params;

void mf_softmax_s8_s8(const mf_softmax_s8_params *p, const int8_t *input, int8_t *output);
void mf_softmax_s8_s16(const mf_softmax_s8_params *p, const int8_t *input, int16_t *output);
void mf_softmax_f32(const mf_softmax_f32_params *p, const float *input, float *output);

#endif
