/* The SSE2 float matrix-vector pass shared by the fully connected and LSTM variants (x86_sse2/):
 * one output per lane, so each is still TFLM's sequential float sum. */
#ifndef MF_MATVEC_SSE2_H
#define MF_MATVEC_SSE2_H

#include "mf_common.h"

#if defined(MF_SIMD_SSE2)
/* Vectors of four sums one SSE2 pass of mf_matvec_f32 keeps in registers: 12 accumulators, the
 * broadcast inputs and a product within the 16 xmm registers. Size-optimized builds (-Os), which
 * neither unroll nor specialize the passes (the accumulators then live on the stack), take 4. */
#if defined(__OPTIMIZE_SIZE__)
#define MF_MATVEC_PASS 4
#else
#define MF_MATVEC_PASS 12
#endif

/* acc[v] (v < nv <= MF_MATVEC_PASS, a constant after inlining) = the sums of the four columns
 * 4v..4v+3 of w over x, four inputs per iteration: each lane is one output's sequential sum
 * from 0.0f, mulps then addps rounding exactly like the scalar acc += x * w. */
static inline void mf_matvec_acc_sse2(__m128 *acc, const float *x, const float *w, int32_t n,
                                      size_t stride, int nv) {
    int32_t k = 0;
    int v;
    for (v = 0; v < nv; ++v) {
        acc[v] = _mm_setzero_ps();
    }
    for (; k + 4 <= n; k += 4) {
        const float *q = w + (size_t)k * stride;
        int j;
        for (j = 0; j < 4; ++j) {
            const __m128 xj = _mm_set1_ps(x[k + j]);
            for (v = 0; v < nv; ++v) {
                acc[v] = _mm_add_ps(acc[v], _mm_mul_ps(_mm_loadu_ps(q + 4 * v), xj));
            }
            q += stride;
        }
    }
    for (; k < n; ++k) {
        const __m128 xk = _mm_set1_ps(x[k]);
        const float *q = w + (size_t)k * stride;
        for (v = 0; v < nv; ++v) {
            acc[v] = _mm_add_ps(acc[v], _mm_mul_ps(_mm_loadu_ps(q + 4 * v), xk));
        }
    }
}

/* Vectors in the next pass when `left` remain: the passes split them evenly. */
static inline int32_t mf_matvec_pass_vectors(int32_t left) {
    const int32_t passes = (left + MF_MATVEC_PASS - 1) / MF_MATVEC_PASS;
    return (left + passes - 1) / passes;
}
#endif

#endif
