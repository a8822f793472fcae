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
#endif

#endif
