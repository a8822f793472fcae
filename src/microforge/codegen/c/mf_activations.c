#include "mf_activations.h"

const uint16_t mf_sigmoid_table_u16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535
};

void mf_logistic_s16(const mf_lut16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = mf_logistic_s16_value(mf_lut16_prescale(input[i], p->multiplier, (int)p->shift));
    }
}

void mf_tanh_s16(const mf_lut16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = mf_tanh_s16_value(mf_lut16_prescale(input[i], p->multiplier, (int)p->shift));
    }
}

static int16_t mf_clamp_s16(int64_t v, int32_t lo, int32_t hi) {
    return (int16_t)(v < lo ? lo : (v > hi ? hi : v));
}

void mf_relu_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t scaled = mf_mbqm((int32_t)input[i] - p->zp_in, p->multiplier, (int)p->shift);
        output[i] = mf_clamp_s16((int64_t)scaled + p->zp_out, p->lo, p->hi);
    }
}

void mf_relu6_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t x = input[i];
        output[i] = (int16_t)(x > p->hi ? p->hi : (x < p->lo ? p->lo : x));
    }
}

void mf_leaky_relu_s16(const mf_act_s16_params *p, const int16_t *input, int16_t *output,
                       int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t d = (int32_t)input[i] - p->zp_in;
        int64_t v;
        if (d >= 0) {
            v = mf_mbqm(d, p->multiplier, (int)p->shift);
        } else {
            v = mf_mbqm(d, p->alpha_multiplier, (int)p->alpha_shift);
            v = p->alpha_negative ? -v : v;
        }
        output[i] = mf_clamp_s16(v + p->zp_out, p->lo, p->hi);
    }
}

#if defined(MF_SIMD_SSE2)
/* SSE2 twins of glibc's expf and tanhf, four floats at a time, for the host build. Every float or
 * double operation below is the one the scalar algorithm performs (as in targets/cortex_m/
 * mf_libm.c; SSE arithmetic rounds each operation like the scalar code, and the build has no FMA
 * contraction), the branches of the scalar code become per-lane selects. */

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

/* bits of 2^(i/32) minus i << 47 (glibc's expf table; the k / 32 part of the exponent is added
 * back from the rounded argument) */
static const uint64_t mf_exp2_tab32[32] = {
    0x3ff0000000000000u, 0x3fefd9b0d3158574u, 0x3fefb5586cf9890fu, 0x3fef9301d0125b51u,
    0x3fef72b83c7d517bu, 0x3fef54873168b9aau, 0x3fef387a6e756238u, 0x3fef1e9df51fdee1u,
    0x3fef06fe0a31b715u, 0x3feef1a7373aa9cbu, 0x3feedea64c123422u, 0x3feece086061892du,
    0x3feebfdad5362a27u, 0x3feeb42b569d4f82u, 0x3feeab07dd485429u, 0x3feea47eb03a5585u,
    0x3feea09e667f3bcdu, 0x3fee9f75e8ec5f74u, 0x3feea11473eb0187u, 0x3feea589994cce13u,
    0x3feeace5422aa0dbu, 0x3feeb737b0cdc5e5u, 0x3feec49182a3f090u, 0x3feed503b23e255du,
    0x3feee89f995ad3adu, 0x3feeff76f2fb5e47u, 0x3fef199bdd85529cu, 0x3fef3720dcef9069u,
    0x3fef5818dcfba487u, 0x3fef7c97337b9b5fu, 0x3fefa4afa2a490dau, 0x3fefd0765b6e4540u,
};

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
#endif

void mf_logistic_f32(const float *input, float *output, int32_t n) {
#if defined(MF_SIMD_SSE2)
    MF_MAP_SSE2(mf_sigmoid_sse2, input, output, n);
#else
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = mf_sigmoidf(input[i]);
    }
#endif
}

void mf_tanh_f32(const float *input, float *output, int32_t n) {
#if defined(MF_SIMD_SSE2)
    MF_MAP_SSE2(mf_tanh_sse2, input, output, n);
#else
    int32_t i;
    for (i = 0; i < n; ++i) {
        output[i] = tanhf(input[i]);
    }
#endif
}

void mf_relu_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        output[i] = x < 0.0f ? 0.0f : x;
    }
}

void mf_relu6_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        output[i] = x > 6.0f ? 6.0f : (x < 0.0f ? 0.0f : x);
    }
}

void mf_leaky_relu_f32(float alpha, const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : x * alpha;
    }
}

/* x * min(6, max(0, x + 3)) / 6, left to right in float32, as TFLM's reference. */
void mf_hard_swish_f32(const float *input, float *output, int32_t n) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float x = input[i];
        float t = x + 3.0f;
        t = 0.0f < t ? t : 0.0f;
        t = t < 6.0f ? t : 6.0f;
        output[i] = x * t / 6.0f;
    }
}
