/* Float LOGISTIC and TANH with SSE2 (x86_sse2/): included at the end of portable/mf_activations.c
 * on x86 SSE2 builds. glibc's expf / tanhf algorithms four lanes at a time (mf_math_sse2.h),
 * bit-identical to the C library for every float input. */
#ifndef MF_ACTIVATIONS_SSE2_H
#define MF_ACTIVATIONS_SSE2_H

#include "mf_activations.h"
#include "mf_math_sse2.h"

#if defined(MF_SIMD_SSE2)
/* bits of 2^(i/32) minus i << 47 (glibc's expf table; the k / 32 part of the exponent is added
 * back from the rounded argument) */
const uint64_t mf_exp2_tab32[32] = {
    0x3ff0000000000000u, 0x3fefd9b0d3158574u, 0x3fefb5586cf9890fu, 0x3fef9301d0125b51u,
    0x3fef72b83c7d517bu, 0x3fef54873168b9aau, 0x3fef387a6e756238u, 0x3fef1e9df51fdee1u,
    0x3fef06fe0a31b715u, 0x3feef1a7373aa9cbu, 0x3feedea64c123422u, 0x3feece086061892du,
    0x3feebfdad5362a27u, 0x3feeb42b569d4f82u, 0x3feeab07dd485429u, 0x3feea47eb03a5585u,
    0x3feea09e667f3bcdu, 0x3fee9f75e8ec5f74u, 0x3feea11473eb0187u, 0x3feea589994cce13u,
    0x3feeace5422aa0dbu, 0x3feeb737b0cdc5e5u, 0x3feec49182a3f090u, 0x3feed503b23e255du,
    0x3feee89f995ad3adu, 0x3feeff76f2fb5e47u, 0x3fef199bdd85529cu, 0x3fef3720dcef9069u,
    0x3fef5818dcfba487u, 0x3fef7c97337b9b5fu, 0x3fefa4afa2a490dau, 0x3fefd0765b6e4540u,
};

/* Four lanes at a time; a tail of 1-3 elements goes through a zero-padded vector. */
#define MF_MAP_SSE2(fn, input, output, n)                 \
    do {                                                  \
        int32_t i_ = 0;                                   \
        for (; i_ + 4 <= (n); i_ += 4) {                  \
            _mm_storeu_ps((output) + i_, fn(_mm_loadu_ps((input) + i_))); \
        }                                                 \
        if (i_ < (n)) {                                   \
            float tail_[4] = {0.0f, 0.0f, 0.0f, 0.0f};    \
            int32_t j_;                                   \
            for (j_ = 0; i_ + j_ < (n); ++j_) {           \
                tail_[j_] = (input)[i_ + j_];             \
            }                                             \
            _mm_storeu_ps(tail_, fn(_mm_loadu_ps(tail_))); \
            for (j_ = 0; i_ + j_ < (n); ++j_) {           \
                (output)[i_ + j_] = tail_[j_];            \
            }                                             \
        }                                                 \
    } while (0)

void mf_logistic_f32(const float *input, float *output, int32_t n) {
    MF_MAP_SSE2(mf_sigmoid_sse2, input, output, n);
}

void mf_tanh_f32(const float *input, float *output, int32_t n) {
    MF_MAP_SSE2(mf_tanh_sse2, input, output, n);
}
#endif

#endif
