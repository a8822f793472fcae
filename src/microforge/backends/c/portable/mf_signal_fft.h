/* SignalRfft: KISS FFT's real forward transform in the three builds TFLM's signal library
 * compiles (16-bit and 32-bit fixed point, float). Mirrors runtime/kernels/signal_kissfft.py: the
 * recursive decimation is replaced by one input permutation (`order`) and one pass per stage
 * (last factor first), every butterfly rounding and wrapping like the C it reproduces. */
#ifndef MF_SIGNAL_FFT_H
#define MF_SIGNAL_FFT_H

#include "mf_common.h"
#include "mf_signal.h"

typedef struct {
    int32_t rows, in_len, ncfft, num_stages;
    const uint16_t *order;      /* [ncfft]: the complex input each leaf position reads */
    const void *twiddles;       /* [ncfft][2] (re, im) of the transform's type */
    const void *super_twiddles; /* [ncfft / 2][2] */
    const int32_t *stages;      /* [num_stages][3]: radix, m, fstride */
} mf_signal_rfft_params;

/* The kernels, one per type (mf_signal_fft_s16.c, _s32.c, _f32.c instantiate MF_FFT_DEFINE, whose
 * portable transform is the static mf_<type>_rfft):
 * void mf_signal_rfft_<type>(const mf_signal_rfft_params *p, const T *x, T *out, T *work);
 * x: rows of in_len samples (zero-padded to 2 * ncfft); out: rows of ncfft + 1 (re, im) pairs;
 * work: 2 * ncfft values of scratch. */

/* Scalar operations of the three KISS FFT builds, named mf_fft_<type>_<op>:
 *   add, sub, neg   sums and negation, stored in the scalar type (fixed point wraps)
 *   smul(a, k)      S_MUL: fixed point rounds the wide product (add half, arithmetic shift)
 *   fixdiv(a, d)    C_FIXDIV: smul by SAMP_MAX / radix (`d`); a no-op in float
 *   half(a)         HALF_OF: arithmetic shift by one, or a * 0.5f
 *   hsum, hdiff     HALF_OF(a + b), HALF_OF(a - b) of the sum computed in C int (int16 build),
 *                   in int32 wrapping (int32 build) or in float
 *   cmul            C_MUL: both products summed in the wide type, then rounded once */

static inline int16_t mf_fft_s16_add(int16_t a, int16_t b) { return mf_wrap16((int32_t)a + b); }
static inline int16_t mf_fft_s16_sub(int16_t a, int16_t b) { return mf_wrap16((int32_t)a - b); }
static inline int16_t mf_fft_s16_neg(int16_t a) { return mf_wrap16(-(int32_t)a); }
/* |products| < 2^31 (twiddles are at most 32767), so the rounding add cannot overflow */
static inline int16_t mf_fft_s16_round(int32_t v) { return mf_wrap16((v + 16384) >> 15); }
static inline int16_t mf_fft_s16_smul(int16_t a, int32_t k) { return mf_fft_s16_round(a * k); }
static inline int16_t mf_fft_s16_fixdiv(int16_t a, int32_t d) { return mf_fft_s16_smul(a, d); }
static inline int16_t mf_fft_s16_half(int16_t a) { return (int16_t)(a >> 1); }
static inline int16_t mf_fft_s16_hsum(int16_t a, int16_t b) { return mf_wrap16(((int32_t)a + b) >> 1); }
static inline int16_t mf_fft_s16_hdiff(int16_t a, int16_t b) { return mf_wrap16(((int32_t)a - b) >> 1); }
static inline void mf_fft_s16_cmul(int16_t ar, int16_t ai, int16_t tr, int16_t ti, int16_t *r,
                                   int16_t *i) {
    *r = mf_fft_s16_round((int32_t)ar * tr - (int32_t)ai * ti);
    *i = mf_fft_s16_round((int32_t)ar * ti + (int32_t)ai * tr);
}

static inline int32_t mf_fft_s32_add(int32_t a, int32_t b) { return mf_wrap_add(a, b); }
static inline int32_t mf_fft_s32_sub(int32_t a, int32_t b) { return mf_wrap_sub(a, b); }
static inline int32_t mf_fft_s32_neg(int32_t a) { return mf_wrap_sub(0, a); }
/* |products| < 2^62 and |ar * tr - ai * ti| < 1.5 * 2^62: no int64 overflow */
static inline int32_t mf_fft_s32_round(int64_t v) {
    return (int32_t)(uint32_t)(uint64_t)((v + ((int64_t)1 << 30)) >> 31);
}
static inline int32_t mf_fft_s32_smul(int32_t a, int32_t k) {
    return mf_fft_s32_round((int64_t)a * k);
}
static inline int32_t mf_fft_s32_fixdiv(int32_t a, int32_t d) { return mf_fft_s32_smul(a, d); }
static inline int32_t mf_fft_s32_half(int32_t a) { return a >> 1; }
static inline int32_t mf_fft_s32_hsum(int32_t a, int32_t b) { return mf_wrap_add(a, b) >> 1; }
static inline int32_t mf_fft_s32_hdiff(int32_t a, int32_t b) { return mf_wrap_sub(a, b) >> 1; }
static inline void mf_fft_s32_cmul(int32_t ar, int32_t ai, int32_t tr, int32_t ti, int32_t *r,
                                   int32_t *i) {
    *r = mf_fft_s32_round((int64_t)ar * tr - (int64_t)ai * ti);
    *i = mf_fft_s32_round((int64_t)ar * ti + (int64_t)ai * tr);
}

static inline float mf_fft_f32_add(float a, float b) { return a + b; }
static inline float mf_fft_f32_sub(float a, float b) { return a - b; }
static inline float mf_fft_f32_neg(float a) { return -a; }
static inline float mf_fft_f32_smul(float a, float k) { return a * k; }
static inline float mf_fft_f32_fixdiv(float a, int32_t d) { (void)d; return a; }
static inline float mf_fft_f32_half(float a) { return a * 0.5f; }
static inline float mf_fft_f32_hsum(float a, float b) { return (a + b) * 0.5f; }
static inline float mf_fft_f32_hdiff(float a, float b) { return (a - b) * 0.5f; }
static inline void mf_fft_f32_cmul(float ar, float ai, float tr, float ti, float *r, float *i) {
    *r = ar * tr - ai * ti;
    *i = ar * ti + ai * tr;
}

/* The transform, written once over those operations. Complex values are (r, i) pairs of T; the
 * butterflies follow KISS FFT's order of operations (which matters for float). */
#define MF_FFT_DEFINE(S, T, DIV2, DIV3, DIV4, DIV5)                                              \
    typedef struct {                                                                             \
        T r, i;                                                                                  \
    } mf_cpx_##S;                                                                                \
                                                                                                 \
    static inline mf_cpx_##S mf_##S##_ld(const T *z, int32_t k) {                                \
        mf_cpx_##S c;                                                                            \
        c.r = z[2 * k];                                                                          \
        c.i = z[2 * k + 1];                                                                      \
        return c;                                                                                \
    }                                                                                            \
    static inline void mf_##S##_st(T *z, int32_t k, T r, T i) {                                  \
        z[2 * k] = r;                                                                            \
        z[2 * k + 1] = i;                                                                        \
    }                                                                                            \
    static inline mf_cpx_##S mf_##S##_mk(T r, T i) {                                             \
        mf_cpx_##S c;                                                                            \
        c.r = r;                                                                                 \
        c.i = i;                                                                                 \
        return c;                                                                                \
    }                                                                                            \
    static inline mf_cpx_##S mf_##S##_cadd(mf_cpx_##S a, mf_cpx_##S b) {                         \
        return mf_##S##_mk(mf_fft_##S##_add(a.r, b.r), mf_fft_##S##_add(a.i, b.i));              \
    }                                                                                            \
    static inline mf_cpx_##S mf_##S##_csub(mf_cpx_##S a, mf_cpx_##S b) {                         \
        return mf_##S##_mk(mf_fft_##S##_sub(a.r, b.r), mf_fft_##S##_sub(a.i, b.i));              \
    }                                                                                            \
    static inline mf_cpx_##S mf_##S##_div(mf_cpx_##S a, int32_t d) {                             \
        return mf_##S##_mk(mf_fft_##S##_fixdiv(a.r, d), mf_fft_##S##_fixdiv(a.i, d));            \
    }                                                                                            \
    static inline mf_cpx_##S mf_##S##_scale(mf_cpx_##S a, T k) {                                 \
        return mf_##S##_mk(mf_fft_##S##_smul(a.r, k), mf_fft_##S##_smul(a.i, k));                \
    }                                                                                            \
    static inline mf_cpx_##S mf_##S##_twiddle(mf_cpx_##S a, const T *tw, int32_t k) {            \
        mf_cpx_##S c;                                                                            \
        mf_fft_##S##_cmul(a.r, a.i, tw[2 * k], tw[2 * k + 1], &c.r, &c.i);                       \
        return c;                                                                                \
    }                                                                                            \
    /* the input of butterfly leg q, divided by the radix and times its twiddle */               \
    static inline mf_cpx_##S mf_##S##_leg(const T *z, int32_t k, int32_t q, int32_t m,           \
                                          int32_t d, const T *tw, int32_t fstride) {             \
        return mf_##S##_twiddle(mf_##S##_div(mf_##S##_ld(z, k + q * m), d), tw, q * k * fstride); \
    }                                                                                            \
                                                                                                 \
    static void mf_##S##_bfly2(T *z, const T *tw, int32_t fstride, int32_t m) {                  \
        int32_t k;                                                                               \
        for (k = 0; k < m; ++k) {                                                                \
            const mf_cpx_##S a = mf_##S##_div(mf_##S##_ld(z, k), DIV2);                          \
            const mf_cpx_##S t = mf_##S##_leg(z, k, 1, m, DIV2, tw, fstride);                    \
            const mf_cpx_##S lo = mf_##S##_csub(a, t), hi = mf_##S##_cadd(a, t);                 \
            mf_##S##_st(z, k + m, lo.r, lo.i);                                                   \
            mf_##S##_st(z, k, hi.r, hi.i);                                                       \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    static void mf_##S##_bfly3(T *z, const T *tw, int32_t fstride, int32_t m) {                  \
        const T epi3 = tw[2 * (fstride * m) + 1];                                                \
        int32_t k;                                                                               \
        for (k = 0; k < m; ++k) {                                                                \
            const mf_cpx_##S a0 = mf_##S##_div(mf_##S##_ld(z, k), DIV3);                         \
            const mf_cpx_##S s1 = mf_##S##_leg(z, k, 1, m, DIV3, tw, fstride);                   \
            const mf_cpx_##S s2 = mf_##S##_leg(z, k, 2, m, DIV3, tw, fstride);                   \
            const mf_cpx_##S s3 = mf_##S##_cadd(s1, s2), s0 = mf_##S##_csub(s1, s2);             \
            const mf_cpx_##S g = mf_##S##_mk(mf_fft_##S##_sub(a0.r, mf_fft_##S##_half(s3.r)),    \
                                             mf_fft_##S##_sub(a0.i, mf_fft_##S##_half(s3.i)));   \
            const mf_cpx_##S e = mf_##S##_scale(s0, epi3);                                       \
            const mf_cpx_##S rot = mf_##S##_mk(e.i, mf_fft_##S##_neg(e.r));                      \
            const mf_cpx_##S f0 = mf_##S##_cadd(a0, s3);                                         \
            const mf_cpx_##S f2 = mf_##S##_cadd(g, rot), f1 = mf_##S##_csub(g, rot);             \
            mf_##S##_st(z, k, f0.r, f0.i);                                                       \
            mf_##S##_st(z, k + 2 * m, f2.r, f2.i);                                               \
            mf_##S##_st(z, k + m, f1.r, f1.i);                                                   \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    static void mf_##S##_bfly4(T *z, const T *tw, int32_t fstride, int32_t m) {                  \
        int32_t k;                                                                               \
        for (k = 0; k < m; ++k) {                                                                \
            const mf_cpx_##S a0 = mf_##S##_div(mf_##S##_ld(z, k), DIV4);                         \
            const mf_cpx_##S s0 = mf_##S##_leg(z, k, 1, m, DIV4, tw, fstride);                   \
            const mf_cpx_##S s1 = mf_##S##_leg(z, k, 2, m, DIV4, tw, fstride);                   \
            const mf_cpx_##S s2 = mf_##S##_leg(z, k, 3, m, DIV4, tw, fstride);                   \
            const mf_cpx_##S s5 = mf_##S##_csub(a0, s1), f0 = mf_##S##_cadd(a0, s1);             \
            const mf_cpx_##S s3 = mf_##S##_cadd(s0, s2), s4 = mf_##S##_csub(s0, s2);             \
            const mf_cpx_##S rot = mf_##S##_mk(s4.i, mf_fft_##S##_neg(s4.r));                    \
            const mf_cpx_##S y2 = mf_##S##_csub(f0, s3), y0 = mf_##S##_cadd(f0, s3);             \
            const mf_cpx_##S y1 = mf_##S##_cadd(s5, rot), y3 = mf_##S##_csub(s5, rot);           \
            mf_##S##_st(z, k + 2 * m, y2.r, y2.i);                                               \
            mf_##S##_st(z, k, y0.r, y0.i);                                                       \
            mf_##S##_st(z, k + m, y1.r, y1.i);                                                   \
            mf_##S##_st(z, k + 3 * m, y3.r, y3.i);                                               \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    static void mf_##S##_bfly5(T *z, const T *tw, int32_t fstride, int32_t m) {                  \
        const T yar = tw[2 * (fstride * m)], yai = tw[2 * (fstride * m) + 1];                    \
        const T ybr = tw[2 * (2 * fstride * m)], ybi = tw[2 * (2 * fstride * m) + 1];            \
        int32_t k;                                                                               \
        for (k = 0; k < m; ++k) {                                                                \
            const mf_cpx_##S a0 = mf_##S##_div(mf_##S##_ld(z, k), DIV5);                         \
            const mf_cpx_##S s1 = mf_##S##_leg(z, k, 1, m, DIV5, tw, fstride);                   \
            const mf_cpx_##S s2 = mf_##S##_leg(z, k, 2, m, DIV5, tw, fstride);                   \
            const mf_cpx_##S s3 = mf_##S##_leg(z, k, 3, m, DIV5, tw, fstride);                   \
            const mf_cpx_##S s4 = mf_##S##_leg(z, k, 4, m, DIV5, tw, fstride);                   \
            const mf_cpx_##S s7 = mf_##S##_cadd(s1, s4), s10 = mf_##S##_csub(s1, s4);            \
            const mf_cpx_##S s8 = mf_##S##_cadd(s2, s3), s9 = mf_##S##_csub(s2, s3);             \
            const mf_cpx_##S y0 = mf_##S##_cadd(a0, mf_##S##_cadd(s7, s8));                      \
            const mf_cpx_##S s5 =                                                                \
                mf_##S##_cadd(mf_##S##_cadd(a0, mf_##S##_scale(s7, yar)), mf_##S##_scale(s8, ybr)); \
            const mf_cpx_##S s11 =                                                               \
                mf_##S##_cadd(mf_##S##_cadd(a0, mf_##S##_scale(s7, ybr)), mf_##S##_scale(s8, yar)); \
            const mf_cpx_##S p = mf_##S##_scale(s10, yai), q = mf_##S##_scale(s9, ybi);          \
            const mf_cpx_##S u = mf_##S##_scale(s9, yai), v = mf_##S##_scale(s10, ybi);          \
            /* (re, im) times -i is (im, -re) */                                                 \
            const mf_cpx_##S s6 = mf_##S##_mk(                                                   \
                mf_fft_##S##_add(p.i, q.i),                                                      \
                mf_fft_##S##_add(mf_fft_##S##_neg(p.r), mf_fft_##S##_neg(q.r)));                 \
            const mf_cpx_##S s12 = mf_##S##_mk(                                                  \
                mf_fft_##S##_sub(u.i, v.i),                                                      \
                mf_fft_##S##_sub(mf_fft_##S##_neg(u.r), mf_fft_##S##_neg(v.r)));                 \
            const mf_cpx_##S y1 = mf_##S##_csub(s5, s6), y4 = mf_##S##_cadd(s5, s6);             \
            const mf_cpx_##S y2 = mf_##S##_cadd(s11, s12), y3 = mf_##S##_csub(s11, s12);         \
            mf_##S##_st(z, k, y0.r, y0.i);                                                       \
            mf_##S##_st(z, k + m, y1.r, y1.i);                                                   \
            mf_##S##_st(z, k + 2 * m, y2.r, y2.i);                                               \
            mf_##S##_st(z, k + 3 * m, y3.r, y3.i);                                               \
            mf_##S##_st(z, k + 4 * m, y4.r, y4.i);                                               \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    /* kiss_fft of the row (pairs of samples as complex values, zero-padded) into z */           \
    static void mf_##S##_fft(const mf_signal_rfft_params *p, const T *x, T *z) {                 \
        const T *tw = (const T *)p->twiddles;                                                    \
        int32_t j, s, b;                                                                         \
        for (j = 0; j < p->ncfft; ++j) {                                                         \
            const int32_t src = 2 * (int32_t)p->order[j];                                        \
            z[2 * j] = src < p->in_len ? x[src] : (T)0;                                          \
            z[2 * j + 1] = src + 1 < p->in_len ? x[src + 1] : (T)0;                              \
        }                                                                                        \
        for (s = 0; s < p->num_stages; ++s) {                                                    \
            const int32_t radix = p->stages[3 * s], m = p->stages[3 * s + 1];                    \
            const int32_t fstride = p->stages[3 * s + 2];                                        \
            for (b = 0; b < fstride; ++b) {                                                      \
                T *block = z + 2 * b * radix * m;                                                \
                switch (radix) {                                                                 \
                case 2: mf_##S##_bfly2(block, tw, fstride, m); break;                            \
                case 3: mf_##S##_bfly3(block, tw, fstride, m); break;                            \
                case 4: mf_##S##_bfly4(block, tw, fstride, m); break;                            \
                default: mf_##S##_bfly5(block, tw, fstride, m); break;                           \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
                                                                                                 \
    static void mf_##S##_rfft(const mf_signal_rfft_params *p, const T *x, T *out, T *work) {     \
        const T *super = (const T *)p->super_twiddles;                                           \
        const int32_t n = p->ncfft;                                                              \
        int32_t r, k;                                                                            \
        for (r = 0; r < p->rows; ++r) {                                                          \
            T *y = out + r * 2 * (n + 1);                                                        \
            mf_cpx_##S dc;                                                                       \
            mf_##S##_fft(p, x + r * p->in_len, work);                                            \
            dc = mf_##S##_div(mf_##S##_ld(work, 0), DIV2);                                       \
            mf_##S##_st(y, 0, mf_fft_##S##_add(dc.r, dc.i), (T)0);                               \
            mf_##S##_st(y, n, mf_fft_##S##_sub(dc.r, dc.i), (T)0);                               \
            for (k = 1; k <= n / 2; ++k) {                                                       \
                const mf_cpx_##S znk = mf_##S##_ld(work, n - k);                                 \
                const mf_cpx_##S fpk = mf_##S##_div(mf_##S##_ld(work, k), DIV2);                 \
                const mf_cpx_##S fpnk =                                                          \
                    mf_##S##_div(mf_##S##_mk(znk.r, mf_fft_##S##_neg(znk.i)), DIV2);             \
                const mf_cpx_##S f1 = mf_##S##_cadd(fpk, fpnk);                                  \
                const mf_cpx_##S t = mf_##S##_twiddle(mf_##S##_csub(fpk, fpnk), super, k - 1);   \
                mf_##S##_st(y, k, mf_fft_##S##_hsum(f1.r, t.r), mf_fft_##S##_hsum(f1.i, t.i));   \
                mf_##S##_st(y, n - k, mf_fft_##S##_hdiff(f1.r, t.r),                             \
                            mf_fft_##S##_hdiff(t.i, f1.i));                                      \
            }                                                                                    \
        }                                                                                        \
    }

#endif
