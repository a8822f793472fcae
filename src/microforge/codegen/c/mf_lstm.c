#include "mf_lstm.h"

/* Blocks of 16, then at most one of 8, with fixed trip counts, which gcc -O2 vectorizes; the
 * tail element by element. */
static int32_t mf_dot_s8(const int8_t *a, const int8_t *b, int32_t n) {
    int32_t acc = 0;
    int32_t i = 0;
    int32_t j;
    for (; i + 16 <= n; i += 16) {
        int32_t block = 0;
        for (j = 0; j < 16; ++j) {
            block += (int32_t)a[i + j] * (int32_t)b[i + j];
        }
        acc += block;
    }
    if (i + 8 <= n) {
        int32_t block = 0;
        for (j = 0; j < 8; ++j) {
            block += (int32_t)a[i + j] * (int32_t)b[i + j];
        }
        acc += block;
        i += 8;
    }
    for (; i < n; ++i) {
        acc += (int32_t)a[i] * (int32_t)b[i];
    }
    return acc;
}

/* Four weight rows at once, interleaved as w[d * 4 + r]: each row's sum is TFLM's sequential
 * float32 sum from 0.0f (the four run side by side, so gcc keeps them in one vector). */
static void mf_dot4_f32(const float *x, const float *w, int32_t n, float *sums) {
    float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    int32_t d;
    for (d = 0; d < n; ++d) {
        const float v = x[d];
        const float *q = w + (size_t)d * 4u;
        a0 += v * q[0];
        a1 += v * q[1];
        a2 += v * q[2];
        a3 += v * q[3];
    }
    sums[0] = a0;
    sums[1] = a1;
    sums[2] = a2;
    sums[3] = a3;
}

static int32_t mf_gate_fc(int32_t acc, int32_t constant, int32_t multiplier, int32_t shift) {
    return mf_clamp(mf_mbqm(mf_wrap_add(acc, constant), multiplier, (int)shift), -32768, 32767);
}

/* Row position of (sequence b, step t) in the input and output tensors. */
static size_t mf_lstm_row(int32_t time_major, int32_t batch, int32_t steps, int32_t b, int32_t t) {
    return time_major ? (size_t)t * (size_t)batch + (size_t)b : (size_t)b * (size_t)steps + (size_t)t;
}

/* Per step and sequence: the four gate pre-activations clamp16(FC(x) + FC(h)) in Q3.12 (the
 * input zero point is folded into input_constant, the hidden one into recurrent_constant), then
 * c = clamp(clamp16(f * c) + clamp16(i * g)) and h = clamp8(o * tanh(c) + zp). The dot products
 * are exact in int32 while 128 * 128 * max(n_in, units) < 2^31 (checked by the emitter). */
void mf_lstm_s8(const mf_lstm_s8_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output, int16_t *gates) {
    const int32_t units = p->units;
    int32_t t, b, g, k, j;
    for (t = 0; t < p->steps; ++t) {
        for (b = 0; b < p->batch; ++b) {
            const size_t row = mf_lstm_row(p->time_major, p->batch, p->steps, b, t);
            const int8_t *x = input + row * (size_t)p->n_in;
            int8_t *h = hidden + (size_t)b * (size_t)units;
            int16_t *c = cell + (size_t)b * (size_t)units;
            int8_t *out = output + row * (size_t)units;
            for (g = 0; g < 4; ++g) {
                for (k = g * units; k < (g + 1) * units; ++k) {
                    const int32_t from_input = mf_gate_fc(
                        mf_dot_s8(x, p->w_input + (size_t)k * (size_t)p->n_in, p->n_in),
                        p->input_constant[k], p->input_multiplier[g], p->input_shift[g]);
                    const int32_t from_hidden = mf_gate_fc(
                        mf_dot_s8(h, p->w_recurrent + (size_t)k * (size_t)units, units),
                        p->recurrent_constant[k], p->recurrent_multiplier[g],
                        p->recurrent_shift[g]);
                    gates[k] = (int16_t)mf_clamp(from_input + from_hidden, -32768, 32767);
                }
            }
            for (j = 0; j < units; ++j) {
                const int32_t f = mf_logistic_s16_value(3 * (int32_t)gates[j]);
                const int32_t in = mf_logistic_s16_value(3 * (int32_t)gates[units + j]);
                const int32_t cand = mf_tanh_s16_value(3 * (int32_t)gates[2 * units + j]);
                const int32_t o = mf_logistic_s16_value(3 * (int32_t)gates[3 * units + j]);
                const int32_t kept = mf_clamp(
                    mf_mbqm(f * (int32_t)c[j], p->forget_multiplier, (int)p->forget_shift),
                    -32768, 32767);
                const int32_t added = mf_clamp(
                    mf_mbqm(in * cand, p->input_cell_multiplier, (int)p->input_cell_shift),
                    -32768, 32767);
                const int32_t new_cell = mf_clamp(kept + added, p->cell_min, p->cell_max);
                const int32_t squashed = mf_tanh_s16_value(
                    mf_lut16_prescale(new_cell, p->cell_tanh_multiplier, (int)p->cell_tanh_shift));
                const int64_t v =
                    (int64_t)mf_mbqm(squashed * o, p->hidden_multiplier, (int)p->hidden_shift) +
                    p->hidden_zp;
                const int8_t hid = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
                c[j] = (int16_t)new_cell;
                h[j] = hid;
                out[j] = hid;
            }
        }
    }
}

/* TFLM's float order: each gate is clampF(sum_d x[d] * w[d] + bias) + clampF(sum_d h[d] * r[d]
 * + 0), sums sequential from 0.0f (four gate rows at a time); products and sums clamped to
 * +-FLT_MAX; the cell clip sends NaN to +clip as the reference's min / max do. No FMA
 * (-ffp-contract=off), so only expf / tanhf can differ from the runtime, on a non-glibc libm. */
void mf_lstm_f32(const mf_lstm_f32_params *p, const float *input, float *hidden, float *cell,
                 float *output, float *gates) {
    const int32_t units = p->units;
    const float clip = p->cell_clip;
    int32_t t, b, k, j, r;
    for (t = 0; t < p->steps; ++t) {
        for (b = 0; b < p->batch; ++b) {
            const size_t row = mf_lstm_row(p->time_major, p->batch, p->steps, b, t);
            const float *x = input + row * (size_t)p->n_in;
            float *h = hidden + (size_t)b * (size_t)units;
            float *c = cell + (size_t)b * (size_t)units;
            float *out = output + row * (size_t)units;
            for (k = 0; k < 4 * units; k += 4) {
                float from_input[4], from_hidden[4];
                mf_dot4_f32(x, p->w_input + (size_t)k * (size_t)p->n_in, p->n_in, from_input);
                mf_dot4_f32(h, p->w_recurrent + (size_t)k * (size_t)units, units, from_hidden);
                for (r = 0; r < 4; ++r) {
                    gates[k + r] = mf_clamp_flt_max(from_input[r] + p->bias[k + r]) +
                                   mf_clamp_flt_max(from_hidden[r] + 0.0f);
                }
            }
            for (j = 0; j < units; ++j) {
                const float f = mf_sigmoidf(gates[j]);
                const float in = mf_sigmoidf(gates[units + j]);
                const float cand = tanhf(gates[2 * units + j]);
                const float o = mf_sigmoidf(gates[3 * units + j]);
                float new_cell = mf_clamp_flt_max(f * c[j]) + mf_clamp_flt_max(in * cand);
                if (clip > 0.0f) {
                    new_cell = new_cell < clip ? new_cell : clip;
                    new_cell = new_cell < -clip ? -clip : new_cell;
                }
                c[j] = new_cell;
                h[j] = mf_clamp_flt_max(tanhf(new_cell) * o);
                out[j] = h[j];
            }
        }
    }
}
