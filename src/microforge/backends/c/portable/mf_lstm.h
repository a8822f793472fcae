/* UNIDIRECTIONAL_SEQUENCE_LSTM (int8 with int16 cell state, float32). Mirrors
 * runtime/kernels/lstm.py: gates in the order forget, input, cell, output; every row of the model
 * batch is an independent sequence; hidden and cell state persist across invokes. */
#ifndef MF_LSTM_H
#define MF_LSTM_H

#include "mf_activations.h"
#include "mf_fully_connected.h"

typedef struct {
    int32_t multiplier, left, right;  /* mf_requantize */
} mf_lstm_requant;

typedef struct {
    int32_t batch, steps, n_in, units, time_major;
    int32_t in_stride, rec_stride;      /* n_in, units rounded up to a multiple of 16 */
    const int8_t *w_input;              /* [4 * units][in_stride], zero past n_in */
    const int8_t *w_recurrent;          /* [4 * units][rec_stride], zero past units */
    const int32_t *input_constant;      /* [4 * units]: bias - input_zp * row sums (int32 wrap) */
    const int32_t *recurrent_constant;  /* [4 * units]: -hidden_zp * row sums */
    mf_lstm_requant input_rq[4];        /* per gate, to the Q3.12 gate scale */
    mf_lstm_requant recurrent_rq[4];
    mf_lstm_requant forget_rq;          /* f * c -> cell scale */
    mf_lstm_requant input_cell_rq;      /* i * g -> cell scale */
    mf_lstm_requant hidden_rq;          /* o * tanh(c) -> hidden scale */
    int32_t hidden_zp;
    int32_t cell_min, cell_max;                       /* cell clip, or the int16 range */
    int32_t cell_tanh_multiplier, cell_tanh_shift;    /* tanh(c): cell scale -> LUT input */
} mf_lstm_s8_params;

typedef struct {
    int32_t batch, steps, n_in, units, time_major;
    const float *w_input;      /* [n_in][4 * units]: row d, input d's weight in each gate row */
    const float *w_recurrent;  /* [units][4 * units], likewise */
    const float *bias;         /* [4 * units] */
    float cell_clip;           /* 0: no clipping */
} mf_lstm_f32_params;

/* Scratch sizes in elements: int8 MF_LSTM_S8_SCRATCH int16, float 8 * units floats (the gate
 * pre-activations of one sequence row, from x and from h). hidden / cell: the state,
 * [batch][units], updated. */
#define MF_LSTM_S8_SCRATCH(p) ((p)->in_stride + (p)->rec_stride + 4 * (p)->units)
void mf_lstm_s8(const mf_lstm_s8_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output, int16_t *scratch);
void mf_lstm_f32(const mf_lstm_f32_params *p, const float *input, float *hidden, float *cell,
                 float *output, float *scratch);

#endif
