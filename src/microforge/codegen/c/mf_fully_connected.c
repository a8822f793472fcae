#include "mf_fully_connected.h"

static int8_t fc_requantize(const mf_fc_s8_params *p, int32_t acc, int32_t o) {
    const int32_t c = p->per_channel ? o : 0;
    const int32_t v = mf_mbqm(mf_wrap_add(acc, p->constant[o]), p->multiplier[c], (int)p->shift[c]);
    return (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
}

void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t r, o;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + (size_t)r * p->accum;
        int8_t *out = output + (size_t)r * p->depth;
        o = 0;
#if MF_USE_DSP
        for (; o + 2 <= p->depth; o += 2) {
            int32_t acc[2] = {0, 0};
            const int8_t *w = p->weights + (size_t)o * p->accum;
            mf_dsp_dot2_s8(x, w, w + p->accum, p->accum, acc);
            out[o] = fc_requantize(p, acc[0], o);
            out[o + 1] = fc_requantize(p, acc[1], o + 1);
        }
#endif
        for (; o < p->depth; ++o) {
            const int8_t *w = p->weights + (size_t)o * p->accum;
            int32_t acc = 0;
            int32_t k;
            for (k = 0; k < p->accum; ++k) {
                acc += (int32_t)x[k] * (int32_t)w[k];
            }
            out[o] = fc_requantize(p, acc, o);
        }
    }
}

/* TFLM's float loop: sequential float32 sum, then + bias, then min(max(v, lo), hi). */
void mf_fully_connected_f32(const mf_fc_f32_params *p, const float *input, float *output) {
    int32_t r, o, k;
    for (r = 0; r < p->rows; ++r) {
        const float *x = input + (size_t)r * p->accum;
        for (o = 0; o < p->depth; ++o) {
            const float *w = p->weights + (size_t)o * p->accum;
            float total = 0.0f;
            float v;
            for (k = 0; k < p->accum; ++k) {
                total += x[k] * w[k];
            }
            v = total + (p->bias ? p->bias[o] : 0.0f);
            v = v < p->act_min ? p->act_min : v;
            v = p->act_max < v ? p->act_max : v;
            output[(size_t)r * p->depth + o] = v;
        }
    }
}
