#include "mf_lstm.h"

static int32_t lstm_clamp16(int32_t v) {
    return mf_clamp(v, -32768, 32767);
}

static int32_t lstm_rq(int32_t x, const mf_lstm_requant *q) {
    return mf_requantize(x, q->multiplier, q->left, q->right);
}

/* Row position of (sequence b, step t) in the input and output tensors. */
static size_t mf_lstm_row(int32_t time_major, int32_t batch, int32_t steps, int32_t b, int32_t t) {
    return time_major ? (size_t)t * (size_t)batch + (size_t)b
                      : (size_t)b * (size_t)steps + (size_t)t;
}

/* Gate pre-activation in Q3.12: clamp16(clamp16(FC(x)) + clamp16(FC(h))). */
static int16_t lstm_gate(const mf_lstm_s8_params *p, int32_t k, int32_t from_x, int32_t from_h,
                         const mf_lstm_requant *qx, const mf_lstm_requant *qh) {
    const int32_t a = lstm_clamp16(lstm_rq(mf_wrap_add(from_x, p->input_constant[k]), qx));
    const int32_t b = lstm_clamp16(lstm_rq(mf_wrap_add(from_h, p->recurrent_constant[k]), qh));
    return (int16_t)lstm_clamp16(a + b);
}

/* Per step and sequence: x and h widened to int16 (zero-padded to the weight row lengths), the
 * four gate pre-activations clamp16(FC(x) + FC(h)) in Q3.12 (the input zero point folded into
 * input_constant, the hidden one into recurrent_constant), then c = clamp(clamp16(f * c) +
 * clamp16(i * g)) and h = clamp8(o * tanh(c) + zp). The dot products are exact in int32 while
 * 128 * 128 * max(in_stride, rec_stride) < 2^31 (checked by the emitter). */
void mf_lstm_s8(const mf_lstm_s8_params *p, const int8_t *input, int8_t *hidden, int16_t *cell,
                int8_t *output, int16_t *scratch) {
    const int32_t units = p->units;
    const int32_t in_stride = p->in_stride, rec_stride = p->rec_stride;
    int16_t *x16 = scratch;
    int16_t *h16 = x16 + in_stride;
    int16_t *gates = h16 + rec_stride;
    int32_t t, b, g, k, j, r;
    for (k = p->n_in; k < in_stride; ++k) {
        x16[k] = 0;
    }
    for (k = units; k < rec_stride; ++k) {
        h16[k] = 0;
    }
    for (t = 0; t < p->steps; ++t) {
        for (b = 0; b < p->batch; ++b) {
            const size_t row = mf_lstm_row(p->time_major, p->batch, p->steps, b, t);
            int8_t *h = hidden + (size_t)b * (size_t)units;
            int16_t *c = cell + (size_t)b * (size_t)units;
            int8_t *out = output + row * (size_t)units;
            mf_widen_s8(input + row * (size_t)p->n_in, x16, p->n_in);
            mf_widen_s8(h, h16, units);
            for (g = 0; g < 4; ++g) {
                const mf_lstm_requant *qx = &p->input_rq[g];
                const mf_lstm_requant *qh = &p->recurrent_rq[g];
                const int32_t end = (g + 1) * units;
                for (k = g * units; k + 4 <= end; k += 4) {
                    int32_t ax[4], ah[4];
                    mf_dot4_s16_s8(x16, p->w_input + (size_t)k * (size_t)in_stride, in_stride,
                                   in_stride, ax);
                    mf_dot4_s16_s8(h16, p->w_recurrent + (size_t)k * (size_t)rec_stride,
                                   rec_stride, rec_stride, ah);
                    for (r = 0; r < 4; ++r) {
                        gates[k + r] = lstm_gate(p, k + r, ax[r], ah[r], qx, qh);
                    }
                }
                for (; k < end; ++k) {
                    const int32_t ax = mf_dot_s16_s8(
                        x16, p->w_input + (size_t)k * (size_t)in_stride, in_stride);
                    const int32_t ah = mf_dot_s16_s8(
                        h16, p->w_recurrent + (size_t)k * (size_t)rec_stride, rec_stride);
                    gates[k] = lstm_gate(p, k, ax, ah, qx, qh);
                }
            }
            for (j = 0; j < units; ++j) {
                const int32_t f = mf_logistic_s16_value(3 * (int32_t)gates[j]);
                const int32_t in = mf_logistic_s16_value(3 * (int32_t)gates[units + j]);
                const int32_t cand = mf_tanh_s16_value(3 * (int32_t)gates[2 * units + j]);
                const int32_t o = mf_logistic_s16_value(3 * (int32_t)gates[3 * units + j]);
                const int32_t kept = lstm_clamp16(lstm_rq(f * (int32_t)c[j], &p->forget_rq));
                const int32_t added = lstm_clamp16(lstm_rq(in * cand, &p->input_cell_rq));
                const int32_t new_cell = mf_clamp(kept + added, p->cell_min, p->cell_max);
                const int32_t squashed = mf_tanh_s16_value(
                    mf_lut16_prescale(new_cell, p->cell_tanh_multiplier, (int)p->cell_tanh_shift));
                const int64_t v = (int64_t)lstm_rq(squashed * o, &p->hidden_rq) + p->hidden_zp;
                const int8_t hid = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
                c[j] = (int16_t)new_cell;
                h[j] = hid;
                out[j] = hid;
            }
        }
    }
}

#ifndef MF_VARIANT_LSTM_F32
/* Cell and hidden state update of one sequence row from the gate pre-activations (forget, input,
 * cell, output rows of `units`), as separate loops; tanh_c: scratch of `units` floats. */
static void lstm_update(float *gates, int32_t units, float clip, float *c, float *h, float *out,
                        float *tanh_c) {
    const float *forget = gates, *in = gates + units, *cand = gates + 2 * units;
    const float *out_gate = gates + 3 * units;
    int32_t j;
    mf_logistic_f32(gates, gates, 2 * units);
    mf_tanh_f32(gates + 2 * units, gates + 2 * units, units);
    mf_logistic_f32(gates + 3 * units, gates + 3 * units, units);
    for (j = 0; j < units; ++j) {
        c[j] = mf_clamp_flt_max_bits(forget[j] * c[j]) + mf_clamp_flt_max_bits(in[j] * cand[j]);
    }
    if (clip > 0.0f) {
        for (j = 0; j < units; ++j) {
            float v = c[j];
            v = v < clip ? v : clip;
            c[j] = v < -clip ? -clip : v;
        }
    }
    mf_tanh_f32(c, tanh_c, units);
    for (j = 0; j < units; ++j) {
        h[j] = mf_clamp_flt_max_bits(tanh_c[j] * out_gate[j]);
        out[j] = h[j];
    }
}

/* TFLM's float order: each gate is clampF(sum_d x[d] * w[d] + bias) + clampF(sum_d h[d] * r[d]
 * + 0), sums sequential from 0.0f (mf_matvec_f32, many gate rows at a time); products and sums
 * clamped to +-FLT_MAX; the cell clip sends NaN to +clip as the reference's min / max do.
 * Here: two mf_matvec_f32 calls and separate element-wise loops over the units (the SSE2 variant
 * fuses them). Every float operation is the reference's, and no FMA (-ffp-contract=off), so only
 * expf / tanhf can differ from the runtime, on a non-glibc libm. */
void mf_lstm_f32(const mf_lstm_f32_params *p, const float *input, float *hidden, float *cell,
                 float *output, float *scratch) {
    const int32_t units = p->units;
    const float clip = p->cell_clip;
    float *gates = scratch;  /* forget, input, cell, output gate rows */
    int32_t t, b;
    for (t = 0; t < p->steps; ++t) {
        for (b = 0; b < p->batch; ++b) {
            const size_t row = mf_lstm_row(p->time_major, p->batch, p->steps, b, t);
            float *h = hidden + (size_t)b * (size_t)units;
            float *c = cell + (size_t)b * (size_t)units;
            float *out = output + row * (size_t)units;
            const int32_t rows = 4 * units;
            float *from_h = gates + rows;  /* the recurrent sums, then tanh(c) */
            int32_t j;
            mf_matvec_f32(input + row * (size_t)p->n_in, p->w_input, p->n_in, rows, rows, gates);
            mf_matvec_f32(h, p->w_recurrent, units, rows, rows, from_h);
            for (j = 0; j < rows; ++j) {
                gates[j] = mf_clamp_flt_max_bits(gates[j] + p->bias[j]) +
                           mf_clamp_flt_max_bits(from_h[j] + 0.0f);
            }
            lstm_update(gates, units, clip, c, h, out, from_h);
        }
    }
}
#endif

/* The x86 SSE2 version of the kernel left out above (MF_VARIANT_LSTM_F32). */
#include "mf_lstm_sse2.h"
