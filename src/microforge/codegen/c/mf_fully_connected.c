#include "mf_fully_connected.h"

void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t r, o, k;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + (size_t)r * p->accum;
        int8_t *out = output + (size_t)r * p->depth;
        for (o = 0; o < p->depth; ++o) {
            const int8_t *w = p->weights + (size_t)o * p->accum;
            const int32_t c = p->per_channel ? o : 0;
            int32_t acc = 0;
            int32_t v;
            for (k = 0; k < p->accum; ++k) {
                acc += (int32_t)x[k] * (int32_t)w[k];
            }
            acc = (int32_t)((uint32_t)acc + (uint32_t)p->constant[o]);
            v = mf_mbqm(acc, p->multiplier[c], (int)p->shift[c]) + p->output_offset;
            out[o] = (int8_t)mf_clamp(v, p->act_min, p->act_max);
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
