#include "mf_svdf.h"

#include <math.h>

/* Integer SVDF, per batch row and filter f (unit u = f / rank):
 *   feature = mbqm(sum_k wf[f][k] * (x[k] - input_zp), scale_1), clamped to the state type,
 *             plus state_zp, stored with a wrapping conversion (TFLM's int8-state quirk);
 *   the filter's memory row shifts left by one and takes feature as its newest value;
 *   time    = sum_j wt[f][j] * (row[j] - state_zp), int32 wrapping (uint32 here);
 *   out[u]  = clamp(mbqm(bias[u] + sum_r time[u * rank + r], scale_2) + output_zp, -128, 127).
 * The zero points are folded into feature_offset and bias by the emitter (modulo 2^32 for the
 * time sums, which wrap anyway). No fused activation: TFLM applies none on this path. */
#define MF_SVDF_INT_BODY(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN)                               \
    const STATE_T *wt_all = (const STATE_T *)p->weights_time;                                    \
    int32_t b, u, r, k, j;                                                                       \
    for (b = 0; b < p->batches; ++b) {                                                           \
        const int8_t *x = input + (size_t)b * p->input_size;                                     \
        STATE_T *state_b = state + (size_t)b * p->filters * p->memory;                           \
        for (u = 0; u < p->units; ++u) {                                                         \
            uint32_t acc = (uint32_t)p->bias[u];                                                 \
            int64_t v;                                                                           \
            for (r = 0; r < p->rank; ++r) {                                                      \
                const int32_t f = u * p->rank + r;                                               \
                const int8_t *wf = p->weights_feature + (size_t)f * p->input_size;               \
                const STATE_T *wt = wt_all + (size_t)f * p->memory;                              \
                STATE_T *row = state_b + (size_t)f * p->memory;                                  \
                int32_t feature = p->feature_offset[f];                                          \
                uint32_t time = 0;                                                               \
                for (k = 0; k < p->input_size; ++k) {                                            \
                    feature += (int32_t)wf[k] * (int32_t)x[k];                                   \
                }                                                                                \
                feature = mf_mbqm(feature, p->scale_1_multiplier, (int)p->scale_1_shift);       \
                feature = mf_clamp(feature, STATE_MIN, STATE_MAX) + p->state_zp;                 \
                feature = (int32_t)(((uint32_t)feature + (STATE_SPAN / 2)) & (STATE_SPAN - 1))  \
                          - (int32_t)(STATE_SPAN / 2);                                           \
                for (j = 0; j + 1 < p->memory; ++j) {                                            \
                    row[j] = row[j + 1];                                                         \
                    time += (uint32_t)((int32_t)wt[j] * (int32_t)row[j]);                       \
                }                                                                                \
                row[p->memory - 1] = (STATE_T)feature;                                           \
                time += (uint32_t)((int32_t)wt[p->memory - 1] * feature);                        \
                acc += time;                                                                     \
            }                                                                                    \
            v = (int64_t)mf_mbqm((int32_t)acc, p->scale_2_multiplier, (int)p->scale_2_shift)    \
                + p->output_zp;                                                                  \
            output[(size_t)b * p->units + u] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));  \
        }                                                                                        \
    }

void mf_svdf_s8_s16(const mf_svdf_s8_params *p, const int8_t *input, int16_t *state, int8_t *output) {
    MF_SVDF_INT_BODY(int16_t, -32768, 32767, 65536u)
}

void mf_svdf_s8_s8(const mf_svdf_s8_params *p, const int8_t *input, int8_t *state, int8_t *output) {
    MF_SVDF_INT_BODY(int8_t, -128, 127, 256u)
}

/* TFLM ActivationValFloat (fmax/fmin keep NaN out; tanh through libm's tanhf). */
static float mf_svdf_activation(int32_t activation, float x) {
    switch (activation) {
    case 1:
        return fmaxf(0.0f, x);
    case 2:
        return fmaxf(-1.0f, fminf(x, 1.0f));
    case 3:
        return fmaxf(0.0f, fminf(x, 6.0f));
    case 4:
        return tanhf(x);
    case 5:
        return signbit(x) ? 1.0f : 0.0f;
    default:
        return x;
    }
}

/* Float SVDF in TFLM's order: feature dot products over the input from 0.0f, time dot products
 * over the memory from 0.0f, then bias + the rank filters in turn, then the activation. */
void mf_svdf_f32(const mf_svdf_f32_params *p, const float *input, float *state, float *output) {
    int32_t b, u, r, k, j;
    for (b = 0; b < p->batches; ++b) {
        const float *x = input + (size_t)b * p->input_size;
        float *state_b = state + (size_t)b * p->filters * p->memory;
        for (u = 0; u < p->units; ++u) {
            float total = p->bias[u];
            for (r = 0; r < p->rank; ++r) {
                const int32_t f = u * p->rank + r;
                const float *wf = p->weights_feature + (size_t)f * p->input_size;
                const float *wt = p->weights_time + (size_t)f * p->memory;
                float *row = state_b + (size_t)f * p->memory;
                float feature = 0.0f;
                float time = 0.0f;
                for (k = 0; k < p->input_size; ++k) {
                    feature += wf[k] * x[k];
                }
                for (j = 0; j + 1 < p->memory; ++j) {
                    row[j] = row[j + 1];
                }
                row[p->memory - 1] = feature;
                for (j = 0; j < p->memory; ++j) {
                    time += wt[j] * row[j];
                }
                total += time;
            }
            output[(size_t)b * p->units + u] = mf_svdf_activation(p->activation, total);
        }
    }
}
