#include "mf_svdf.h"

#include <math.h>

/* Time dot products: wt[j] * row[j] summed modulo 2^32 like TFLM's int32 accumulator (products
 * of int16 values fit int32; gcc turns the int16 loop into pmaddwd). The int8 state uses int16
 * copies of the time weights, so the same widening multiply-add applies. */
#define MF_SVDF_TIME(NAME, STATE_T)                                                   \
    static inline uint32_t NAME(const int16_t *wt, const STATE_T *row, int32_t n) {   \
        uint32_t acc = 0;                                                             \
        int32_t j;                                                                    \
        for (j = 0; j < n; ++j) {                                                     \
            acc += (uint32_t)((int32_t)wt[j] * (int32_t)row[j]);                      \
        }                                                                             \
        return acc;                                                                   \
    }

MF_SVDF_TIME(mf_svdf_time_s16, int16_t)
MF_SVDF_TIME(mf_svdf_time_s8, int8_t)

/* Integer SVDF, per batch row (unit u = f / rank):
 *   every memory row shifts left by one (one memmove over the whole [filters][memory] state:
 *   the element each row takes from the next row is overwritten by its new value);
 *   feature = mbqm(sum_k wf[f][k] * (x[k] - input_zp), scale_1), clamped to the state type,
 *             plus state_zp, stored with a wrapping conversion (TFLM's int8-state quirk) as the
 *             newest value of row f (features do not depend on the state);
 *   time    = sum_j wt[f][j] * (row[j] - state_zp), int32 wrapping (uint32 here);
 *   out[u]  = clamp(mbqm(bias[u] + sum_r time[u * rank + r], scale_2) + output_zp, -128, 127).
 * The input row is widened to int16 in scratch (x_row) for the pmaddwd dot products, four
 * filters at a time. The zero points are folded into feature_offset and bias by the emitter
 * (modulo 2^32 for the time sums, which wrap anyway). No fused activation: TFLM applies none on
 * this path. The multipliers are non-negative (mf_requantize). The params are copied to a local:
 * narrow stores could alias them and force reloads. Common memory lengths get a constant trip
 * count so the time dot products unroll completely. */
#define MF_SVDF_FEATURE(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, F, ACC)                      \
    do {                                                                                        \
        int32_t v_ = mf_requantize(p->feature_offset[F] + (ACC), p->scale_1_multiplier, left_1, \
                                   right_1);                                                    \
        v_ = mf_clamp(v_, STATE_MIN, STATE_MAX) + p->state_zp;                                  \
        v_ = (int32_t)(((uint32_t)v_ + (STATE_SPAN / 2)) & (STATE_SPAN - 1))                    \
             - (int32_t)(STATE_SPAN / 2);                                                       \
        state_b[(size_t)(F) * memory + memory - 1] = (STATE_T)v_;                               \
    } while (0)

#define MF_SVDF_UNITS(TIME, M)                                                                  \
    for (u = 0, f = 0; u < p->units; ++u) {                                                     \
        uint32_t acc = (uint32_t)p->bias[u];                                                    \
        int64_t v;                                                                              \
        for (r = 0; r < p->rank; ++r, ++f) {                                                    \
            acc += TIME(p->weights_time + (size_t)f * (M), state_b + (size_t)f * (M), (M));     \
        }                                                                                       \
        v = (int64_t)mf_requantize((int32_t)acc, p->scale_2_multiplier, left_2, right_2)       \
            + p->output_zp;                                                                     \
        out[u] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));                               \
    }

#define MF_SVDF_INT_BODY(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, TIME)                       \
    const mf_svdf_s8_params local = *params;                                                   \
    const mf_svdf_s8_params *const p = &local;                                                 \
    const int32_t left_1 = MF_MAX(p->scale_1_shift, 0), right_1 = MF_MAX(-p->scale_1_shift, 0); \
    const int32_t left_2 = MF_MAX(p->scale_2_shift, 0), right_2 = MF_MAX(-p->scale_2_shift, 0); \
    const int32_t n = p->input_size, memory = p->memory, filters = p->filters;                 \
    const size_t shifted = ((size_t)filters * memory - 1) * sizeof(STATE_T);                   \
    int32_t b, u, r, f;                                                                        \
    for (b = 0; b < p->batches; ++b) {                                                         \
        STATE_T *state_b = state + (size_t)b * filters * memory;                               \
        int8_t *out = output + (size_t)b * p->units;                                           \
        mf_widen_s8(input + (size_t)b * n, x_row, n);                                          \
        memmove(state_b, state_b + 1, shifted);                                                \
        for (f = 0; f + 4 <= filters; f += 4) {                                                \
            int32_t acc4[4];                                                                   \
            mf_dot4_s16_s8(x_row, p->weights_feature + (size_t)f * n, n, n, acc4);             \
            MF_SVDF_FEATURE(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, f, acc4[0]);            \
            MF_SVDF_FEATURE(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, f + 1, acc4[1]);        \
            MF_SVDF_FEATURE(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, f + 2, acc4[2]);        \
            MF_SVDF_FEATURE(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, f + 3, acc4[3]);        \
        }                                                                                      \
        for (; f < filters; ++f) {                                                             \
            MF_SVDF_FEATURE(STATE_T, STATE_MIN, STATE_MAX, STATE_SPAN, f,                      \
                            mf_dot_s16_s8(x_row, p->weights_feature + (size_t)f * n, n));      \
        }                                                                                      \
        switch (memory) {                                                                      \
        case 8:                                                                                \
            MF_SVDF_UNITS(TIME, 8)                                                             \
            break;                                                                             \
        case 16:                                                                               \
            MF_SVDF_UNITS(TIME, 16)                                                            \
            break;                                                                             \
        case 32:                                                                               \
            MF_SVDF_UNITS(TIME, 32)                                                            \
            break;                                                                             \
        default:                                                                               \
            MF_SVDF_UNITS(TIME, memory)                                                        \
            break;                                                                             \
        }                                                                                      \
    }

void mf_svdf_s8_s16(const mf_svdf_s8_params *params, const int8_t *input, int16_t *state,
                    int8_t *output, int16_t *x_row) {
    MF_SVDF_INT_BODY(int16_t, -32768, 32767, 65536u, mf_svdf_time_s16)
}

void mf_svdf_s8_s8(const mf_svdf_s8_params *params, const int8_t *input, int8_t *state,
                   int8_t *output, int16_t *x_row) {
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
