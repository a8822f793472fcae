/* UNIDIRECTIONAL_SEQUENCE_LSTM (int8 with int16 cell state, float32). Mirrors
 * runtime/kernels/lstm.py: gates in the order forget, input, cell, output; every row of the model
 * batch is an independent sequence; hidden and cell state persist across invokes. */
#ifndef MF_LSTM_H
#define MF_LSTM_H

#include "mf_activations.h"

typedef struct {
    int32_t batch, steps, n_in, units, time_major;
    const int8_t *w_input;              /* [4 * units][n_in] */
    const int8_t *w_recurrent;          /* [4 * units][units] */
    const int32_t *input_constant;      /* [4 * units]: bias - input_zp * row sums (int32 wrap) */
    const int32_t *recurrent_constant;  /* [4 * units]: -hidden_zp * row sums */
    const int32_t *input_multiplier;    /* [4], per gate, to the Q3.12 gate scale */
    const int32_t *input_shift;
    const int32_t *recurrent_multiplier;
    const int32_t *recurrent_shift;
    int32_t forget_multiplier, forget_shift;          /* f * c -> cell scale */
    int32_t input_cell_multiplier, input_cell_shift;  /* i * g -> cell scale */
    int32_t hidden_multiplier, hidden_shift;          /* o * tanh(c) -> hidden scale */
    int32_t hidden_zp;
    int32_t cell_min, cell_max;                       /* cell clip, or the int16 range */
    int32_t cell_tanh_multiplier, cell_tanh_shift;    /* tanh(c): cell scale -> LUT input */
} mf_lstm_s8_params;

typedef struct {
    int32_t batch, steps, n_in, units, time_major;
    const float *w_input;      /* [units][n_in][4]: rows 4i..4i+3 of the gate matrix interleaved */
    const float *w_recurrent;  /* [units][units][4], likewise */
    const float *bias;         /* [4 * units] */
    float cell_clip;           /* 0: no clipping */
} mf_lstm_f32_params;

/* gates: scratch of 4 * units elements. hidden / cell: the state, [batch][units], updated. */
void mf_lstm_s8(const mf_lstm_s8_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output, int16_t *gates);
void mf_lstm_f32(const mf_lstm_f32_params *p, const float *input, float *hidden, float *cell,
                 float *output, float *gates);

#endif
