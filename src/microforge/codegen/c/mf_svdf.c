#include "mf_svdf.h"

#include <math.h>

/* Dot products in blocks of 16 (a constant trip count the compiler vectorizes at -O2), then the
 * tail. Integer sums do not depend on the order: the int32 feature sum cannot overflow (the
 * emitter checks its bound), the time sums wrap modulo 2^32 like TFLM's int32 accumulator. */
#define MF_SVDF_DOT(NAME, A_T, B_T, ACC_T)                                            \
    static inline ACC_T NAME(const A_T *a, const B_T *b, int32_t n) {                \
        ACC_T acc = 0;                                                                \
        int32_t k = 0, i;                                                             \
        for (; k + 16 <= n; k += 16) {                                                \
            ACC_T part = 0;                                                           \
            for (i = 0; i < 16; ++i) {                                                \
                part += (ACC_T)((int32_t)a[k + i] * (int32_t)b[k + i]);               \
            }                                                                         \
            acc += part;                                                              \
        }                                                                             \
        for (; k < n; ++k) {                                                          \
            acc += (ACC_T)((int32_t)a[k] * (int32_t)b[k]);                            \
        }                                                                             \
        return acc;                                                                   \
    }

MF_SVDF_DOT(mf_svdf_dot_s8, int8_t, int8_t, int32_t)
MF_SVDF_DOT(mf_svdf_time_s8, int8_t, int8_t, uint32_t)
MF_SVDF_DOT(mf_svdf_time_s16, int16_t, int16_t, uint32_t)

/* Integer SVDF, per batch row and filter f (unit u = f / rank):
 *   feature = mbqm(sum_k wf[f][k] * (x[k] - input_zp), scale_1), clamped to the state type,
 *             plus state_zp, stored with a wrapping conversion (TFLM's int8-state quirk);
 *   the filter's memory row shifts left by one and takes feature as its newest value;
 *   time    = sum_j wt[f][j] * (row[j] - state_zp), int32 wrapping (uint32 here);
 *   out[u]  = clamp(mbqm(bias[u] + sum_r time[u * rank + r], scale_2) + output_zp, -128, 127).
 * The zero points are folded into feature_offset and bias by the emitter (modulo 2^32 for the
 * time sums, which wrap anyway). No fused activation: TFLM applies none on this path. The
 * multipliers are non-negative (mf_requantize). The params are copied to a local: int8 stores
 * could alias them and force reloads. */
#define MF_SVDF_INT_BODY(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, TIME)                         \
    const mf_svdf_s8_params local = *params;                                                     \
    const mf_svdf_s8_params *const p = &local;                                                   \
    const STATE_T *wt_all = (const STATE_T *)p->weights_time;                                    \
    const int32_t left_1 = MF_MAX(p->scale_1_shift, 0), right_1 = MF_MAX(-p->scale_1_shift, 0);  \
    const int32_t left_2 = MF_MAX(p->scale_2_shift, 0), right_2 = MF_MAX(-p->scale_2_shift, 0);  \
    const size_t shifted = (size_t)(p->memory - 1) * sizeof(STATE_T);                            \
    int32_t b, u, r;                                                                             \
    for (b = 0; b < p->batches; ++b) {                                                           \
        const int8_t *x = input + (size_t)b * p->input_size;                                     \
        STATE_T *state_b = state + (size_t)b * p->filters * p->memory;                           \
        for (u = 0; u < p->units; ++u) {                                                         \
            uint32_t acc = (uint32_t)p->bias[u];                                                 \
            int64_t v;                                                                           \
            for (r = 0; r < p->rank; ++r) {                                                      \
                const int32_t f = u * p->rank + r;                                               \
                STATE_T *row = state_b + (size_t)f * p->memory;                                  \
                int32_t feature = p->feature_offset[f] + mf_svdf_dot_s8(                         \
                    p->weights_feature + (size_t)f * p->input_size, x, p->input_size);           \
                feature = mf_requantize(feature, p->scale_1_multiplier, left_1, right_1);       \
                feature = mf_clamp(feature, STATE_MIN, STATE_MAX) + p->state_zp;                 \
                feature = (int32_t)(((uint32_t)feature + (STATE_SPAN / 2)) & (STATE_SPAN - 1))  \
                          - (int32_t)(STATE_SPAN / 2);                                           \
                memmove(row, row + 1, shifted);                                                  \
                row[p->memory - 1] = (STATE_T)feature;                                           \
                acc += TIME(wt_all + (size_t)f * p->memory, row, p->memory);                     \
            }                                                                                    \
            v = (int64_t)mf_requantize((int32_t)acc, p->scale_2_multiplier, left_2, right_2)    \
                + p->output_zp;                                                                  \
            output[(size_t)b * p->units + u] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));  \
        }                                                                                        \
    }

void mf_svdf_s8_s16(const mf_svdf_s8_params *params, const int8_t *input, int16_t *state,
                    int8_t *output) {
    MF_SVDF_INT_BODY(int16_t, -32768, 32767, 65536u, mf_svdf_time_s16)
}

void mf_svdf_s8_s8(const mf_svdf_s8_params *params, const int8_t *input, int8_t *state,
                   int8_t *output) {
    MF_SVDF_INT_BODY(int8_t, -128, 127, 256u, mf_svdf_time_s8)
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
