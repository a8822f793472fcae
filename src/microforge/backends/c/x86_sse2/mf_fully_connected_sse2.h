/* The float matrix-vector product of FULLY_CONNECTED with SSE2 (x86_sse2/): included at the end
 * of portable/mf_fully_connected.c on x86 SSE2 builds. */
#ifndef MF_FULLY_CONNECTED_SSE2_H
#define MF_FULLY_CONNECTED_SSE2_H

#include "mf_fully_connected.h"
#include "mf_matvec_sse2.h"

#if defined(MF_SIMD_SSE2)
/* One pass of nv <= MF_MATVEC_PASS vectors of sums (nv a constant after inlining). */
static inline void matvec_pass_sse2(const float *x, const float *w, int32_t n, size_t stride,
                                    float *sums, int nv) {
    __m128 acc[MF_MATVEC_PASS];
    int v;
    mf_matvec_acc_sse2(acc, x, w, n, stride, nv);
    for (v = 0; v < nv; ++v) {
        _mm_storeu_ps(sums + 4 * v, acc[v]);
    }
}

/* Passes of at most 12 vectors split the whole vectors evenly; a last partial vector (count not a
 * multiple of 4) goes through a local copy. */
void mf_matvec_f32(const float *x, const float *w, int32_t n, int32_t stride, int32_t count,
                   float *sums) {
    const int32_t full = count / 4;
    int32_t o = 0;
    while (o < 4 * full) {
        const int32_t nv = mf_matvec_pass_vectors(full - o / 4);
        switch (nv) {
        case 1: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 1); break;
        case 2: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 2); break;
        case 3: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 3); break;
#if MF_MATVEC_PASS > 4
        case 4: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 4); break;
        case 5: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 5); break;
        case 6: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 6); break;
        case 7: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 7); break;
        case 8: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 8); break;
        case 9: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 9); break;
        case 10: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 10); break;
        case 11: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, 11); break;
#endif
        default: matvec_pass_sse2(x, w + o, n, (size_t)stride, sums + o, MF_MATVEC_PASS); break;
        }
        o += 4 * nv;
    }
    if (o < count) {
        float tail[4];
        matvec_pass_sse2(x, w + o, n, (size_t)stride, tail, 1);
        sums[o] = tail[0]; /* 1-3 sums left: no copy loop (which would become a memcpy call) */
        if (o + 1 < count) {
            sums[o + 1] = tail[1];
        }
        if (o + 2 < count) {
            sums[o + 2] = tail[2];
        }
    }
}

/* ---- int8: the portable kernel's loops with the dot products as PMADDWD, eight products per
 * instruction (the weights sign-extended to int16; the last n mod 8 scalar). gcc's own
 * vectorization of the portable loops pays a long prologue and epilogue per call, which short
 * rows (hello_world's 16 inputs) do not repay. ---- */
static inline __m128i fc_w8_sse2(const int8_t *w) { /* eight int8 as int16 */
    const __m128i v = _mm_loadl_epi64((const __m128i *)w);
    return _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
}

/* acc[r] += x . w_r for four rows of weights (stride apart) over n int16 inputs. */
static inline void fc_dot4_sse2(const int16_t *x, const int8_t *w, int32_t n, int32_t stride,
                                int32_t *acc) {
    const int8_t *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0, t0, t1;
    int32_t k = 0;
    for (; k + 8 <= n; k += 8) {
        const __m128i xv = _mm_loadu_si128((const __m128i *)(x + k));
        a0 = _mm_add_epi32(a0, _mm_madd_epi16(xv, fc_w8_sse2(w + k)));
        a1 = _mm_add_epi32(a1, _mm_madd_epi16(xv, fc_w8_sse2(w1 + k)));
        a2 = _mm_add_epi32(a2, _mm_madd_epi16(xv, fc_w8_sse2(w2 + k)));
        a3 = _mm_add_epi32(a3, _mm_madd_epi16(xv, fc_w8_sse2(w3 + k)));
    }
    t0 = _mm_add_epi32(_mm_unpacklo_epi32(a0, a1), _mm_unpackhi_epi32(a0, a1));
    t1 = _mm_add_epi32(_mm_unpacklo_epi32(a2, a3), _mm_unpackhi_epi32(a2, a3));
    t0 = _mm_add_epi32(_mm_add_epi32(_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1)),
                       _mm_loadu_si128((const __m128i *)acc));
    _mm_storeu_si128((__m128i *)acc, t0);
    for (; k < n; ++k) {
        const int32_t v = x[k];
        acc[0] += v * (int32_t)w[k];
        acc[1] += v * (int32_t)w1[k];
        acc[2] += v * (int32_t)w2[k];
        acc[3] += v * (int32_t)w3[k];
    }
}

/* acc + x . w over n int16 inputs. */
static inline int32_t fc_dot_sse2(const int16_t *x, const int8_t *w, int32_t n, int32_t acc) {
    __m128i a = _mm_setzero_si128();
    int32_t k = 0;
    for (; k + 8 <= n; k += 8) {
        a = _mm_add_epi32(a, _mm_madd_epi16(_mm_loadu_si128((const __m128i *)(x + k)), fc_w8_sse2(w + k)));
    }
    a = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0x4E));
    a = _mm_add_epi32(a, _mm_shuffle_epi32(a, 0xB1));
    acc += _mm_cvtsi128_si32(a);
    for (; k < n; ++k) {
        acc += (int32_t)x[k] * (int32_t)w[k];
    }
    return acc;
}

/* acc[o] += x[0..n) . w_o[k0..k0 + n) for every output, the input widened a chunk at a time. */
static void fc_sums_sse2(const mf_fc_s8_params *p, const int8_t *x, int32_t k0, int32_t n,
                         int16_t *row, int32_t *acc) {
    const int32_t accum = p->accum;
    const int8_t *w = p->weights + k0;
    int32_t c0, o;
    for (c0 = 0; c0 < n; c0 += p->chunk) {
        const int32_t len = MF_MIN(p->chunk, n - c0);
        mf_widen_s8(x + c0, row, len);
        for (o = 0; o + 4 <= p->depth; o += 4) {
            fc_dot4_sse2(row, w + (size_t)o * accum + c0, len, accum, acc + o);
        }
        for (; o < p->depth; ++o) {
            acc[o] = fc_dot_sse2(row, w + (size_t)o * accum + c0, len, acc[o]);
        }
    }
}

/* The input row widened once when it fits the scratch (else a chunk at a time per group of
 * outputs), then four weight rows per pass, as the portable kernel. */
void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output,
                           int16_t *row) {
    const int32_t accum = p->accum;
    int32_t r, o, c0;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + (size_t)r * accum;
        int8_t *out = output + (size_t)r * p->depth;
        const int whole = accum <= p->chunk;
        if (whole) {
            mf_widen_s8(x, row, accum);
        }
        for (o = 0; o + 4 <= p->depth; o += 4) {
            int32_t acc[4] = {0, 0, 0, 0};
            const int8_t *w = p->weights + (size_t)o * accum;
            if (whole) {
                fc_dot4_sse2(row, w, accum, accum, acc);
            } else {
                for (c0 = 0; c0 < accum; c0 += p->chunk) {
                    const int32_t len = MF_MIN(p->chunk, accum - c0);
                    mf_widen_s8(x + c0, row, len);
                    fc_dot4_sse2(row, w + c0, len, accum, acc);
                }
            }
            out[o] = fc_requantize(p, acc[0], o);
            out[o + 1] = fc_requantize(p, acc[1], o + 1);
            out[o + 2] = fc_requantize(p, acc[2], o + 2);
            out[o + 3] = fc_requantize(p, acc[3], o + 3);
        }
        for (; o < p->depth; ++o) {
            const int8_t *w = p->weights + (size_t)o * accum;
            int32_t acc = 0;
            if (whole) {
                acc = fc_dot_sse2(row, w, accum, 0);
            } else {
                for (c0 = 0; c0 < accum; c0 += p->chunk) {
                    const int32_t len = MF_MIN(p->chunk, accum - c0);
                    mf_widen_s8(x + c0, row, len);
                    acc = fc_dot_sse2(row, w + c0, len, acc);
                }
            }
            out[o] = fc_requantize(p, acc, o);
        }
    }
}

void mf_fc_s8_accumulate(const mf_fc_s8_params *p, const int8_t *x, int32_t k0, int32_t n,
                         int16_t *row, int32_t *acc) {
    fc_sums_sse2(p, x, k0, n, row, acc);
}

/* One pass of nv vectors of sums stored through the output stage: + bias, then MAXPS(lo, v) and
 * MINPS(hi, v), which return v when it is NaN and when it equals the bound, as the portable
 * v < lo ? lo : v and hi < v ? hi : v do. */
static inline void fc_f32_pass_sse2(const float *x, const float *w, int32_t n, size_t stride,
                                    const float *bias, __m128 lo, __m128 hi, float *out, int nv) {
    __m128 acc[MF_MATVEC_PASS];
    int v;
    mf_matvec_acc_sse2(acc, x, w, n, stride, nv);
    for (v = 0; v < nv; ++v) {
        const __m128 y = _mm_add_ps(acc[v], _mm_loadu_ps(bias + 4 * v));
        _mm_storeu_ps(out + 4 * v, _mm_min_ps(hi, _mm_max_ps(lo, y)));
    }
}

/* The portable kernel with the output stage fused into the passes of the matrix-vector product
 * (the last depth mod 4 outputs from one pass over the zero-padded columns and bias). */
void mf_fully_connected_f32(const mf_fc_f32_params *p, const float *input, float *output) {
    const float lo = p->act_min, hi = p->act_max;
    const __m128 lo4 = _mm_set1_ps(lo), hi4 = _mm_set1_ps(hi);
    const int32_t full = p->depth / 4, n = p->accum;
    const size_t stride = (size_t)p->stride;
    int32_t r, o;
    for (r = 0; r < p->rows; ++r) {
        const float *x = input + (size_t)r * n;
        float *out = output + (size_t)r * p->depth;
        o = 0;
        while (o < 4 * full) {
            const int32_t left = full - o / 4;
            const int32_t nv = left <= MF_MATVEC_PASS ? left : mf_matvec_pass_vectors(left);
            const float *w = p->weights + o, *b = p->bias + o;
            switch (nv) {
            case 1: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 1); break;
            case 2: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 2); break;
            case 3: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 3); break;
#if MF_MATVEC_PASS > 4
            case 4: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 4); break;
            case 5: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 5); break;
            case 6: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 6); break;
            case 7: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 7); break;
            case 8: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 8); break;
            case 9: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 9); break;
            case 10: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 10); break;
            case 11: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, 11); break;
#endif
            default: fc_f32_pass_sse2(x, w, n, stride, b, lo4, hi4, out + o, MF_MATVEC_PASS); break;
            }
            o += 4 * nv;
        }
        if (o < p->depth) { /* 1-3 outputs: one pass over the zero-padded columns and bias */
            __m128 acc[1], v;
            float t[4];
            mf_matvec_acc_sse2(acc, x, p->weights + o, n, stride, 1);
            v = _mm_min_ps(hi4, _mm_max_ps(lo4, _mm_add_ps(acc[0], _mm_loadu_ps(p->bias + o))));
            if (o + 1 == p->depth) {
                _mm_store_ss(out + o, v);
            } else {
                _mm_storeu_ps(t, v);
                out[o] = t[0];
                out[o + 1] = t[1];
                if (o + 2 < p->depth) {
                    out[o + 2] = t[2];
                }
            }
        }
    }
}
#endif

#endif
