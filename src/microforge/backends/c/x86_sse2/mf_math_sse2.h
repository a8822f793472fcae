/* SSE2 twins of glibc's expf and tanhf (x86_sse2/), four floats at a time, for the float sigmoid
 * and tanh variants (mf_activations_sse2.h, mf_lstm_sse2.h). Every float or double operation below
 * is the one the scalar algorithm performs (as in targets/cortex_m/mf_libm.c; SSE arithmetic
 * rounds each operation like the scalar code, and the build has no FMA contraction), the branches
 * of the scalar code become per-lane selects. */
#ifndef MF_MATH_SSE2_H
#define MF_MATH_SSE2_H

#include "mf_activations.h"

#if defined(MF_SIMD_SSE2)

/* bits of 2^(i/32) minus i << 47 (glibc's expf table; the k / 32 part of the exponent is added
 * back from the rounded argument) */
extern const uint64_t mf_exp2_tab32[32];

static inline __m128 mf_sel_ps(__m128 mask, __m128 a, __m128 b) {
    return _mm_or_ps(_mm_and_ps(mask, a), _mm_andnot_ps(mask, b));
}

/* y with the lanes flagged in `slow` replaced by fn(x) (the C library's function). */
static inline __m128 mf_libm_lanes(__m128 y, __m128 x, __m128i slow, float (*fn)(float)) {
    const int lanes = _mm_movemask_ps(_mm_castsi128_ps(slow));
    if (lanes != 0) {
        float xs[4], ys[4];
        int l;
        _mm_storeu_ps(xs, x);
        _mm_storeu_ps(ys, y);
        for (l = 0; l < 4; ++l) {
            if (lanes & (1 << l)) {
                ys[l] = fn(xs[l]);
            }
        }
        y = _mm_loadu_ps(ys);
    }
    return y;
}


/* glibc's expf before the final rounding, for two floats widened to double: 2^(k/32) from the
 * table times a cubic in the reduced argument r. */
static inline __m128d mf_expf_pd(__m128d x) {
    const __m128d shift = _mm_set1_pd(0x1.8p+52);
    const __m128d z = _mm_mul_pd(_mm_set1_pd(0x1.71547652b82fep+5), x);
    __m128d kd = _mm_add_pd(z, shift); /* z rounded to an integer in the low bits of kd */
    const __m128i ki = _mm_castpd_si128(kd);
    const int32_t i0 = _mm_cvtsi128_si32(ki) & 31;
    const int32_t i1 = _mm_cvtsi128_si32(_mm_shuffle_epi32(ki, _MM_SHUFFLE(3, 2, 3, 2))) & 31;
    const __m128i tab = _mm_unpacklo_epi64(_mm_loadl_epi64((const __m128i *)&mf_exp2_tab32[i0]),
                                           _mm_loadl_epi64((const __m128i *)&mf_exp2_tab32[i1]));
    const __m128d s = _mm_castsi128_pd(_mm_add_epi64(tab, _mm_slli_epi64(ki, 47)));
    __m128d r, p, y;
    kd = _mm_sub_pd(kd, shift);
    r = _mm_sub_pd(z, kd);
    p = _mm_add_pd(_mm_mul_pd(_mm_set1_pd(0x1.c6af84b912394p-20), r),
                   _mm_set1_pd(0x1.ebfce50fac4f3p-13));
    y = _mm_add_pd(_mm_mul_pd(_mm_set1_pd(0x1.62e42ff0c52d6p-6), r), _mm_set1_pd(1.0));
    y = _mm_add_pd(_mm_mul_pd(p, _mm_mul_pd(r, r)), y);
    return _mm_mul_pd(y, s);
}

/* Lanes whose double result lies within 2^8 double ulps of a float rounding midpoint: glibc's
 * expf has an FMA build (picked at run time on CPUs with FMA) whose double result differs from
 * this one by a few ulps, so only there can the two round differently. */
static inline __m128i mf_near_midpoint(__m128d lo, __m128d hi) {
    const __m128i low = _mm_castps_si128(_mm_shuffle_ps(
        _mm_castpd_ps(lo), _mm_castpd_ps(hi), _MM_SHUFFLE(2, 0, 2, 0)));
    const __m128i off = _mm_and_si128(_mm_add_epi32(low, _mm_set1_epi32(256 - 0x10000000)),
                                      _mm_set1_epi32(0x1FFFFFFF));
    return _mm_cmpgt_epi32(_mm_set1_epi32(512), off);
}

/* expf of four floats: the vector algorithm where its result is certain to be the C library's,
 * the library itself for the rest (|x| >= 87 with overflow, underflow to denormals, inf and NaN;
 * results near a rounding midpoint). */
static inline __m128 mf_expf_sse2(__m128 x) {
    const __m128d lo = mf_expf_pd(_mm_cvtps_pd(x));
    const __m128d hi = mf_expf_pd(_mm_cvtps_pd(_mm_movehl_ps(x, x)));
    const __m128i mag = _mm_and_si128(_mm_castps_si128(x), _mm_set1_epi32(0x7FFFFFFF));
    const __m128i slow = _mm_or_si128(_mm_cmpgt_epi32(mag, _mm_set1_epi32(0x42ADFFFF)),
                                      mf_near_midpoint(lo, hi));
    return mf_libm_lanes(_mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi)), x, slow, expf);
}

/* mf_sigmoidf of four floats. */
static inline __m128 mf_sigmoid_sse2(__m128 x) {
    const __m128 one = _mm_set1_ps(1.0f);
    const __m128 low = _mm_cmplt_ps(x, _mm_set1_ps(-9.0f));
    const __m128 high = _mm_cmpgt_ps(x, _mm_set1_ps(16.619047164916992188f));
    const __m128 arg = _mm_xor_ps(x, _mm_andnot_ps(low, _mm_set1_ps(-0.0f))); /* x or -x */
    const __m128 e = mf_expf_sse2(arg);
    const __m128 y = mf_sel_ps(low, e, _mm_div_ps(one, _mm_add_ps(one, e)));
    return mf_sel_ps(high, one, y);
}

/* glibc's tanhf (fdlibm) of four floats. The scalar code computes t = expm1f(2|x|) and
 * 1 - 2 / (t + 2) for |x| >= 1, t = expm1f(-2|x|) and -t / (t + 2) below, 1 from |x| = 22 on,
 * x * (1 + x) below 2^-55 and 1 / x +- 1 for inf and NaN, then puts the sign of x back. Here
 * 1 - 2 / (t + 2) is taken as 1 from |x| = 9.5 on already (t + 2 > 2^26 there, so the quotient
 * is below half an ulp of 1), and the C library's tanhf takes the rare lanes with |x| < 2^-26,
 * inf or NaN. That leaves expm1f arguments a = +-2|x| with 2^-25 <= |a| < 19 and these of its
 * branches (a = k ln2 + r, k = -1 for 0.5 ln2 < |a| < 1.5 ln2 (a < 0 there), trunc(a / ln2 +-
 * 0.5) above, 0 below; one formula hi = a - k ln2_hi, lo = k ln2_lo gives all three
 * reductions): k = 0; k = -1; k <= -2 (a < 0); 3 <= k < 23; 23 <= k <= 27. Each becomes a
 * per-lane select with the scalar code's operations. */
static inline __m128 mf_tanh_sse2(__m128 x) {
    const __m128 half = _mm_set1_ps(0.5f), one = _mm_set1_ps(1.0f), two = _mm_set1_ps(2.0f);
    const __m128 sign = _mm_set1_ps(-0.0f);
    const __m128i mag = _mm_and_si128(_mm_castps_si128(x), _mm_set1_epi32(0x7FFFFFFF));
    const __m128 ge1 = _mm_castsi128_ps(_mm_cmpgt_epi32(mag, _mm_set1_epi32(0x3F7FFFFF)));
    const __m128 lt1_sign = _mm_andnot_ps(ge1, sign);
    const __m128 a2 = _mm_add_ps(_mm_castsi128_ps(mag), _mm_castsi128_ps(mag));
    const __m128i mag2 = _mm_castps_si128(a2);
    const __m128 arg = _mm_xor_ps(a2, lt1_sign); /* expm1f's argument */
    __m128i k = _mm_cvttps_epi32(_mm_add_ps(_mm_mul_ps(_mm_set1_ps(1.4426950216e+00f), arg),
                                            _mm_or_ps(half, lt1_sign)));
    __m128 kf, hi, lo, r, c, hfx, hxs, r1, u, e, t, p, y, q, z;
    __m128i negk;
    k = _mm_or_si128(k, _mm_cmpgt_epi32(_mm_set1_epi32(0x3F851592), mag2)); /* -1 */
    k = _mm_and_si128(k, _mm_cmpgt_epi32(mag2, _mm_set1_epi32(0x3EB17218)));
    kf = _mm_cvtepi32_ps(k);
    hi = _mm_sub_ps(arg, _mm_mul_ps(kf, _mm_set1_ps(6.9313812256e-01f)));
    lo = _mm_mul_ps(kf, _mm_set1_ps(9.0580006145e-06f));
    r = _mm_sub_ps(hi, lo);
    c = _mm_sub_ps(_mm_sub_ps(hi, r), lo);
    hfx = _mm_mul_ps(half, r);
    hxs = _mm_mul_ps(r, hfx);
    r1 = _mm_add_ps(_mm_set1_ps(4.0082177293e-06f),
                    _mm_mul_ps(hxs, _mm_set1_ps(-2.0109921195e-07f)));
    r1 = _mm_add_ps(_mm_set1_ps(-7.9365076090e-05f), _mm_mul_ps(hxs, r1));
    r1 = _mm_add_ps(_mm_set1_ps(1.5873016091e-03f), _mm_mul_ps(hxs, r1));
    r1 = _mm_add_ps(_mm_set1_ps(-3.3333335072e-02f), _mm_mul_ps(hxs, r1));
    r1 = _mm_add_ps(one, _mm_mul_ps(hxs, r1));
    u = _mm_sub_ps(_mm_set1_ps(3.0f), _mm_mul_ps(r1, hfx));
    e = _mm_mul_ps(hxs, _mm_div_ps(_mm_sub_ps(r1, u),
                                   _mm_sub_ps(_mm_set1_ps(6.0f), _mm_mul_ps(r, u))));
    t = _mm_sub_ps(r, _mm_sub_ps(_mm_mul_ps(r, e), hxs)); /* k == 0 */
    e = _mm_sub_ps(_mm_sub_ps(_mm_mul_ps(r, _mm_sub_ps(e, c)), c), hxs);
    /* k <= -2: 1 - (e - r); 3 <= k < 23: (1 - 2^-k) - (e - r); k >= 23: (r - (e + 2^-k)) + 1;
     * then k added to the exponent, and 1 subtracted for k < 0 */
    negk = _mm_cmpgt_epi32(_mm_setzero_si128(), k);
    p = _mm_castsi128_ps(_mm_slli_epi32(_mm_sub_epi32(_mm_set1_epi32(0x7F), k), 23)); /* 2^-k */
    y = _mm_sub_ps(_mm_sub_ps(one, _mm_andnot_ps(_mm_castsi128_ps(negk), p)), _mm_sub_ps(e, r));
    y = mf_sel_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(k, _mm_set1_epi32(22))),
                  _mm_add_ps(_mm_sub_ps(r, _mm_add_ps(e, p)), one), y);
    y = _mm_castsi128_ps(_mm_add_epi32(_mm_castps_si128(y), _mm_slli_epi32(k, 23)));
    y = _mm_sub_ps(y, _mm_and_ps(_mm_castsi128_ps(negk), one));
    y = mf_sel_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(k, _mm_set1_epi32(-1))),
                  _mm_sub_ps(_mm_mul_ps(half, _mm_sub_ps(r, e)), half), y);
    t = mf_sel_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(k, _mm_setzero_si128())), t, y);
    /* tanh from t */
    q = _mm_div_ps(mf_sel_ps(ge1, two, _mm_xor_ps(t, sign)), _mm_add_ps(t, two));
    z = mf_sel_ps(ge1, _mm_sub_ps(one, q), q);
    z = mf_sel_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(mag, _mm_set1_epi32(0x41180000 - 1))), one, z);
    z = _mm_xor_ps(z, _mm_and_ps(x, sign));
    return mf_libm_lanes(z, x, _mm_or_si128(
                             _mm_cmpgt_epi32(_mm_set1_epi32(0x32800000), mag),
                             _mm_cmpgt_epi32(mag, _mm_set1_epi32(0x7F7FFFFF))), tanhf);
}
#endif

#endif
