/* The float LSTM with SSE2 (x86_sse2/): included at the end of portable/mf_lstm.c on x86 SSE2
 * builds. The x and h sums of up to 12 gate vectors per pass, combined in registers, then the
 * activations and the state update four units at a time with glibc's expf / tanhf algorithms in
 * vector form: the portable kernel's float operations, lane by lane. */
#ifndef MF_LSTM_SSE2_H
#define MF_LSTM_SSE2_H

#include "mf_lstm.h"
#include "mf_math_sse2.h"
#include "mf_matvec_sse2.h"

#if defined(MF_SIMD_SSE2)
/* mf_clamp_flt_max_bits of four floats: -1 added to the bits of +-inf lanes. */
static inline __m128 lstm_clamp_flt_max_sse2(__m128 v) {
    const __m128i u = _mm_castps_si128(v);
    const __m128i inf = _mm_cmpeq_epi32(_mm_and_si128(u, _mm_set1_epi32(0x7FFFFFFF)),
                                        _mm_set1_epi32(0x7F800000));
    return _mm_castsi128_ps(_mm_add_epi32(u, inf));
}

/* Gate rows o .. o + 4 nv - 1 of one sequence row: the sums over x, then over h, each in
 * registers for its whole pass (mf_matvec_acc_sse2), combined as the portable loop does. */
static inline void lstm_gates_pass_sse2(const mf_lstm_f32_params *p, const float *x,
                                        const float *h, int32_t o, float *gates, int nv) {
    const size_t stride = 4 * (size_t)p->units;
    __m128 acc[MF_MATVEC_PASS];
    int v;
    mf_matvec_acc_sse2(acc, x, p->w_input + o, p->n_in, stride, nv);
    for (v = 0; v < nv; ++v) {
        const __m128 b = _mm_loadu_ps(p->bias + o + 4 * v);
        _mm_storeu_ps(gates + o + 4 * v, lstm_clamp_flt_max_sse2(_mm_add_ps(acc[v], b)));
    }
    mf_matvec_acc_sse2(acc, h, p->w_recurrent + o, p->units, stride, nv);
    for (v = 0; v < nv; ++v) {
        const __m128 from_h = lstm_clamp_flt_max_sse2(_mm_add_ps(acc[v], _mm_setzero_ps()));
        _mm_storeu_ps(gates + o + 4 * v, _mm_add_ps(_mm_loadu_ps(gates + o + 4 * v), from_h));
    }
}

/* The element-wise step of four units from their gate pre-activations f, i, g, o: the portable
 * loops' operations lane by lane (min / max as the clip's compare-and-select: minps returns its
 * second operand unless the first is smaller, so NaN becomes +clip as in the C). */
static inline void lstm_units4_sse2(__m128 f, __m128 i, __m128 g, __m128 o, float clip,
                                    __m128 *c, __m128 *h) {
    __m128 v;
    f = mf_sigmoid_sse2(f);
    i = mf_sigmoid_sse2(i);
    g = mf_tanh_sse2(g);
    o = mf_sigmoid_sse2(o);
    v = _mm_add_ps(lstm_clamp_flt_max_sse2(_mm_mul_ps(f, *c)),
                   lstm_clamp_flt_max_sse2(_mm_mul_ps(i, g)));
    if (clip > 0.0f) {
        v = _mm_max_ps(_mm_set1_ps(-clip), _mm_min_ps(v, _mm_set1_ps(clip)));
    }
    *c = v;
    *h = lstm_clamp_flt_max_sse2(_mm_mul_ps(mf_tanh_sse2(v), o));
}

/* Cell and hidden state update of one sequence row, four units at a time; the last units % 4
 * through the scalar functions the SSE2 ones mirror (mf_sigmoidf, the C library's tanhf). */
static void lstm_update_sse2(const float *gates, int32_t units, float clip, float *c, float *h,
                             float *out) {
    int32_t j;
    for (j = 0; j + 4 <= units; j += 4) {
        __m128 cv = _mm_loadu_ps(c + j), hv;
        lstm_units4_sse2(_mm_loadu_ps(gates + j), _mm_loadu_ps(gates + units + j),
                         _mm_loadu_ps(gates + 2 * units + j), _mm_loadu_ps(gates + 3 * units + j),
                         clip, &cv, &hv);
        _mm_storeu_ps(c + j, cv);
        _mm_storeu_ps(h + j, hv);
        _mm_storeu_ps(out + j, hv);
    }
    for (; j < units; ++j) {
        const float f = mf_sigmoidf(gates[j]), in = mf_sigmoidf(gates[units + j]);
        const float g = tanhf(gates[2 * units + j]), o = mf_sigmoidf(gates[3 * units + j]);
        float v = mf_clamp_flt_max_bits(f * c[j]) + mf_clamp_flt_max_bits(in * g);
        if (clip > 0.0f) {
            v = v < clip ? v : clip;
            v = v < -clip ? -clip : v;
        }
        c[j] = v;
        h[j] = mf_clamp_flt_max_bits(tanhf(v) * o);
        out[j] = h[j];
    }
}

/* All 4 * units gate pre-activations, in passes of up to MF_MATVEC_PASS vectors. */
static void lstm_gates_sse2(const mf_lstm_f32_params *p, const float *x, const float *h,
                            float *gates) {
    const int32_t vectors = p->units; /* 4 * units rows */
    int32_t o = 0;
    while (o < 4 * vectors) {
        const int32_t nv = mf_matvec_pass_vectors(vectors - o / 4);
        switch (nv) {
        case 1: lstm_gates_pass_sse2(p, x, h, o, gates, 1); break;
        case 2: lstm_gates_pass_sse2(p, x, h, o, gates, 2); break;
        case 3: lstm_gates_pass_sse2(p, x, h, o, gates, 3); break;
#if MF_MATVEC_PASS > 4
        case 4: lstm_gates_pass_sse2(p, x, h, o, gates, 4); break;
        case 5: lstm_gates_pass_sse2(p, x, h, o, gates, 5); break;
        case 6: lstm_gates_pass_sse2(p, x, h, o, gates, 6); break;
        case 7: lstm_gates_pass_sse2(p, x, h, o, gates, 7); break;
        case 8: lstm_gates_pass_sse2(p, x, h, o, gates, 8); break;
        case 9: lstm_gates_pass_sse2(p, x, h, o, gates, 9); break;
        case 10: lstm_gates_pass_sse2(p, x, h, o, gates, 10); break;
        case 11: lstm_gates_pass_sse2(p, x, h, o, gates, 11); break;
#endif
        default: lstm_gates_pass_sse2(p, x, h, o, gates, MF_MATVEC_PASS); break;
        }
        o += 4 * nv;
    }
}

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
            lstm_gates_sse2(p, input + row * (size_t)p->n_in, h, gates);
            lstm_update_sse2(gates, units, clip, c, h, out);
        }
    }
}
#endif

#endif
