#include "mf_softmax.h"

#include <math.h>

static int32_t row_reciprocal(const mf_softmax_s8_params *p, const int8_t *x, int32_t *max_out,
                              int *bits_over_unit) {
    int32_t c, max = -128, sum = 0;
    for (c = 0; c < p->depth; ++c) {
        max = MF_MAX(max, (int32_t)x[c]);
    }
    for (c = 0; c < p->depth; ++c) {
        sum = mf_wrap_add(sum, p->summand[(int32_t)x[c] - max + 255]);
    }
    *max_out = max;
    return mf_get_reciprocal(sum, 12, bits_over_unit);
}

#define MF_SOFTMAX_S8_BODY(OUT_BITS, OUT_MIN, OUT_MAX)                                  \
    int32_t r, c;                                                                       \
    for (r = 0; r < p->rows; ++r) {                                                     \
        const int8_t *x = input + (size_t)r * p->depth;                                 \
        int32_t max;                                                                    \
        int bits_over_unit;                                                             \
        const int32_t reciprocal = row_reciprocal(p, x, &max, &bits_over_unit);         \
        const int exponent = bits_over_unit + 31 - (OUT_BITS);                          \
        for (c = 0; c < p->depth; ++c) {                                                \
            const int32_t index = (int32_t)x[c] - max + 255;                            \
            int32_t v = OUT_MIN;                                                        \
            if (index >= p->min_index) {                                                \
                v = mf_rdbypot(mf_srdhm(reciprocal, p->exp[index]), exponent) + OUT_MIN;  \
                v = mf_clamp(v, OUT_MIN, OUT_MAX);                                      \
            }                                                                           \
            output[(size_t)r * p->depth + c] = v;                                       \
        }                                                                               \
    }

void mf_softmax_s8_s8(const mf_softmax_s8_params *p, const int8_t *input, int8_t *output) {
    MF_SOFTMAX_S8_BODY(8, -128, 127)
}

void mf_softmax_s8_s16(const mf_softmax_s8_params *p, const int8_t *input, int16_t *output) {
    MF_SOFTMAX_S8_BODY(16, -32768, 32767)
}

/* TFLM's float loop: row max (std::max, so NaN never wins), expf((x - max) * beta), a sequential
 * float32 sum, then each exp divided by the sum. */
void mf_softmax_f32(const mf_softmax_f32_params *p, const float *input, float *output) {
    int32_t r, c;
    for (r = 0; r < p->rows; ++r) {
        const float *x = input + (size_t)r * p->depth;
        float *y = output + (size_t)r * p->depth;
        float max = -3.40282347e+38f;
        float sum = 0.0f;
        for (c = 0; c < p->depth; ++c) {
            max = max < x[c] ? x[c] : max;
        }
        for (c = 0; c < p->depth; ++c) {
            y[c] = expf((x[c] - max) * p->beta);
            sum += y[c];
        }
        for (c = 0; c < p->depth; ++c) {
            y[c] = y[c] / sum;
        }
    }
}
