/* SVDF (int8 input with int8 or int16 state, float32). Mirrors runtime/kernels/svdf.py. */
#ifndef MF_SVDF_H
#define MF_SVDF_H

#include "mf_common.h"

typedef struct {
    int32_t batches, input_size, filters, memory, rank, units;
    int32_t scale_1_multiplier, scale_1_shift, scale_2_multiplier, scale_2_shift;
    int32_t state_zp, output_zp;
    const int8_t *weights_feature;   /* [filters][input_size] */
    const int32_t *feature_offset;   /* [filters]: -input_zp * row sum of weights_feature */
    const int32_t *bias;             /* [units]: bias - state_zp * row sums of weights_time, wrapped */
    const int16_t *weights_time;     /* [filters][memory] (int8 values for an int8 state) */
} mf_svdf_s8_params;

typedef struct {
    int32_t batches, input_size, filters, memory, rank, units, activation;
    const float *weights_feature;  /* [filters][input_size] */
    const float *weights_time;     /* [filters][memory] */
    const float *bias;             /* [units] */
} mf_svdf_f32_params;

/* x_row: scratch of input_size int16 (the input row widened). */
void mf_svdf_s8_s16(const mf_svdf_s8_params *params, const int8_t *input, int16_t *state,
                    int8_t *output, int16_t *x_row);
void mf_svdf_s8_s8(const mf_svdf_s8_params *params, const int8_t *input, int8_t *state,
                   int8_t *output, int16_t *x_row);
void mf_svdf_f32(const mf_svdf_f32_params *p, const float *input, float *state, float *output);

#endif
