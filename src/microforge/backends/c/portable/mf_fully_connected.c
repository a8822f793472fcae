#include "mf_fully_connected.h"

static inline int8_t fc_requantize(const mf_fc_s8_params *p, int32_t acc, int32_t o) {
    const int32_t c = o & p->channel_mask;
    const int32_t v = mf_requantize(mf_wrap_add(acc, p->constant[o]), p->multiplier[c],
                                    p->left_shift[c], p->right_shift[c]);
    return (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
}

#ifndef MF_VARIANT_FULLY_CONNECTED_S8
/* acc[r] = x . w_r for four rows of weights (stride apart) over n inputs, widening x to int16
 * chunk elements at a time (once for the whole row when it fits). */
static inline void fc_dot4(const int8_t *x, const int8_t *w, int32_t n, int32_t stride,
                           int32_t chunk, int16_t *row, int32_t *acc) {
    int32_t c0, r;
    if (n <= chunk) {
        mf_dot4_s16_s8(row, w, n, stride, acc);
        return;
    }
    acc[0] = acc[1] = acc[2] = acc[3] = 0;
    for (c0 = 0; c0 < n; c0 += chunk) {
        const int32_t len = MF_MIN(chunk, n - c0);
        int32_t part[4];
        mf_widen_s8(x + c0, row, len);
        mf_dot4_s16_s8(row, w + c0, len, stride, part);
        for (r = 0; r < 4; ++r) {
            acc[r] += part[r];
        }
    }
}

static inline int32_t fc_dot(const int8_t *x, const int8_t *w, int32_t n, int32_t chunk,
                             int16_t *row) {
    int32_t c0, acc = 0;
    if (n <= chunk) {
        return mf_dot_s16_s8(row, w, n);
    }
    for (c0 = 0; c0 < n; c0 += chunk) {
        const int32_t len = MF_MIN(chunk, n - c0);
        mf_widen_s8(x + c0, row, len);
        acc += mf_dot_s16_s8(row, w + c0, len);
    }
    return acc;
}

/* The input row widened to int16 (in chunks when it is longer than the scratch), then four
 * weight rows per pass. */
void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output,
                           int16_t *row) {
    const int32_t accum = p->accum;
    int32_t r, o;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + (size_t)r * accum;
        int8_t *out = output + (size_t)r * p->depth;
        o = 0;
        if (accum <= p->chunk) {
            mf_widen_s8(x, row, accum);
        }
        for (; o + 4 <= p->depth; o += 4) {
            int32_t acc[4];
            fc_dot4(x, p->weights + (size_t)o * accum, accum, accum, p->chunk, row, acc);
            out[o] = fc_requantize(p, acc[0], o);
            out[o + 1] = fc_requantize(p, acc[1], o + 1);
            out[o + 2] = fc_requantize(p, acc[2], o + 2);
            out[o + 3] = fc_requantize(p, acc[3], o + 3);
        }
        for (; o < p->depth; ++o) {
            out[o] = fc_requantize(p, fc_dot(x, p->weights + (size_t)o * accum, accum, p->chunk,
                                             row), o);
        }
    }
}

void mf_fc_s8_accumulate(const mf_fc_s8_params *p, const int8_t *x, int32_t k0, int32_t n,
                         int16_t *row, int32_t *acc) {
    const int32_t accum = p->accum;
    const int8_t *w = p->weights + k0;
    int32_t c0, o, r;
    for (c0 = 0; c0 < n; c0 += p->chunk) {
        const int32_t len = MF_MIN(p->chunk, n - c0);
        mf_widen_s8(x + c0, row, len);
        for (o = 0; o + 4 <= p->depth; o += 4) {
            int32_t part[4];
            mf_dot4_s16_s8(row, w + (size_t)o * accum + c0, len, accum, part);
            for (r = 0; r < 4; ++r) {
                acc[o + r] += part[r];
            }
        }
        for (; o < p->depth; ++o) {
            acc[o] += mf_dot_s16_s8(row, w + (size_t)o * accum + c0, len);
        }
    }
}

#endif

void mf_fc_s8_finish(const mf_fc_s8_params *p, const int32_t *acc, int8_t *output) {
    int32_t o;
    for (o = 0; o < p->depth; ++o) {
        output[o] = fc_requantize(p, acc[o], o);
    }
}

#ifndef MF_VARIANT_MATVEC_F32
/* One block of 4 * nv sums (nv <= 8, a constant after inlining), kept in registers for the whole
 * pass over x. */
static inline void matvec_block(const float *x, const float *w, int32_t n, int32_t stride,
                                float *sums, int32_t nv) {
    float acc[8][4];
    int32_t k, v, l;
    for (v = 0; v < nv; ++v) {
        for (l = 0; l < 4; ++l) {
            acc[v][l] = 0.0f;
        }
    }
    for (k = 0; k < n; ++k) {
        const float xv = x[k];
        const float *q = w + (size_t)k * (size_t)stride;
        for (v = 0; v < nv; ++v) {
            for (l = 0; l < 4; ++l) {
                acc[v][l] += xv * q[4 * v + l];
            }
        }
    }
    for (v = 0; v < nv; ++v) {
        for (l = 0; l < 4; ++l) {
            sums[4 * v + l] = acc[v][l];
        }
    }
}

void mf_matvec_f32(const float *x, const float *w, int32_t n, int32_t stride, int32_t count,
                   float *sums) {
    int32_t o = 0;
    for (; o + 32 <= count; o += 32) {
        matvec_block(x, w + o, n, stride, sums + o, 8);
    }
    if (o + 16 <= count) {
        matvec_block(x, w + o, n, stride, sums + o, 4);
        o += 16;
    }
    if (o + 8 <= count) {
        matvec_block(x, w + o, n, stride, sums + o, 2);
        o += 8;
    }
    if (o + 4 <= count) {
        matvec_block(x, w + o, n, stride, sums + o, 1);
        o += 4;
    }
    if (o + 1 == count) {
        /* one output left: a plain sequential sum */
        const float *q = w + o;
        float sum = 0.0f;
        int32_t k;
        for (k = 0; k < n; ++k) {
            sum += x[k] * q[(size_t)k * (size_t)stride];
        }
        sums[o] = sum;
    } else if (o < count) {
        /* two or three: a block of four over the zero-padded columns */
        float tail[4];
        matvec_block(x, w + o, n, stride, tail, 1);
        sums[o] = tail[0];
        sums[o + 1] = tail[1];
        if (o + 2 < count) {
            sums[o + 2] = tail[2];
        }
    }
}

#endif

#ifndef MF_VARIANT_FULLY_CONNECTED_F32
/* TFLM's float loop: sequential float32 sum, then + bias, then min(max(v, lo), hi) (NaN passes). */
void mf_fully_connected_f32(const mf_fc_f32_params *p, const float *input, float *output) {
    const float lo = p->act_min, hi = p->act_max;
    int32_t r, o;
    for (r = 0; r < p->rows; ++r) {
        float *out = output + (size_t)r * p->depth;
        mf_matvec_f32(input + (size_t)r * p->accum, p->weights, p->accum, p->stride, p->depth,
                      out);
        for (o = 0; o < p->depth; ++o) {
            float v = out[o] + p->bias[o];
            v = v < lo ? lo : v;
            v = hi < v ? hi : v;
            out[o] = v;
        }
    }
}
#endif

/* The variant versions of the kernels left out above (MF_VARIANT_*): Arm DSP, x86 SSE2. */
#include "mf_fully_connected_dsp.h"
#include "mf_fully_connected_mve.h"
#include "mf_fully_connected_sse2.h"
