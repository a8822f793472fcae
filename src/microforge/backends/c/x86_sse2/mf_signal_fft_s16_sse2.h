/* The int16 real FFT (SignalRfft) with SSE2 (x86_sse2/): included at the end of
 * portable/mf_signal_fft_s16.c on x86 SSE2 builds; other plans go to its portable mf_s16_rfft. */
#ifndef MF_SIGNAL_FFT_S16_SSE2_H
#define MF_SIGNAL_FFT_S16_SSE2_H

#include "mf_signal_fft_s16.h"

#if defined(MF_SIMD_SSE2)
/* SSE2 twin of mf_s16_rfft for transforms of 4^n >= 256 complex points (all stages radix 4; the
 * micro_speech front end's 512-point real FFT is one). Eight butterflies run side by side, on
 * split real / imaginary arrays. Every lane computes exactly the portable C's integer values:
 *
 * - C_FIXDIV(v, d) = (v * d + 2^14) >> 15 is the high half of v * 2d plus the top bit of its low
 *   half (the rounding carry): pmulhw + pmullw (2d = 16382 and 32766 fit in int16). The result
 *   has |v| <= 8192 (d = 8191) or 16384 (d = 16383).
 * - C_MUL of a divided value by a twiddle (|t| <= 32767): pmaddwd of the interleaved (re, im)
 *   pairs with (tr, -ti) and (ti, tr) gives both int32 sums exactly, then + 2^14 and >> 15. The
 *   results are below 2^15 in magnitude (|re|, |im| <= 8192 times |tr| + |ti| < 2^16), so the
 *   saturating pack never saturates.
 * - Sums and differences in int16 wrap, as the C's conversions to int16 do (paddw / psubw).
 * - The twiddle of stage 1's first leg k = 0 is (32767, 0), which leaves a divided value v
 *   unchanged ((v * 32767 + 2^14) >> 15 = v for |v| <= 8192); stage 0 only has that one.
 *
 * Data flow for N = ncfft = 16 L: the input permutation writes stage 0's layout (natural index
 * j = 16 r + q stored at q L + r, so both first stages vectorize over r), gathered from a
 * zero-padded copy of the row in `out`; stages 0 and 1 run in
 * place there; an 8x8-block transpose moves the values to natural order in `out` (free until the
 * end); the remaining stages (m >= 16, vectorized over k) run from `out` into `work`; the real
 * FFT's split writes `out`. */

typedef struct {
    __m128i r, i;
} mf_sse_cpx;

static inline __m128i mf_sse_ld(const int16_t *p) { return _mm_loadu_si128((const __m128i *)p); }
static inline void mf_sse_st(int16_t *p, __m128i v) { _mm_storeu_si128((__m128i *)p, v); }

/* Hides a constant from gcc, which would otherwise turn pmullw by it into a longer shift-and-
 * subtract sequence. */
#if defined(__GNUC__)
#define MF_SSE_OPAQUE(v) __asm__("" : "+x"(v))
#else
#define MF_SSE_OPAQUE(v) (void)0
#endif

/* (v * d + 2^14) >> 15 with k2 = 2d in every lane */
static inline __m128i mf_sse_fixdiv(__m128i v, __m128i k2) {
    return _mm_add_epi16(_mm_mulhi_epi16(v, k2), _mm_srli_epi16(_mm_mullo_epi16(v, k2), 15));
}

/* Twiddles of eight lanes as pmaddwd operands: (tr, -ti) and (ti, tr) pairs, lanes 0-3 and 4-7 */
typedef struct {
    __m128i re_lo, re_hi, im_lo, im_hi;
} mf_sse_twiddle;

/* from two vectors of four (tr, ti) pairs each */
static inline mf_sse_twiddle mf_sse_twiddle_of(__m128i lo, __m128i hi) {
    const __m128i odd = _mm_set1_epi32((int32_t)0xFFFF0000u);
    mf_sse_twiddle t;
    t.re_lo = _mm_sub_epi16(_mm_xor_si128(lo, odd), odd);
    t.re_hi = _mm_sub_epi16(_mm_xor_si128(hi, odd), odd);
    t.im_lo = _mm_shufflehi_epi16(_mm_shufflelo_epi16(lo, 0xB1), 0xB1);
    t.im_hi = _mm_shufflehi_epi16(_mm_shufflelo_epi16(hi, 0xB1), 0xB1);
    return t;
}

/* one twiddle in all eight lanes */
static inline mf_sse_twiddle mf_sse_twiddle_splat(int16_t tr, int16_t ti) {
    const uint32_t re = (uint32_t)(uint16_t)tr | ((uint32_t)(uint16_t)mf_wrap16(-(int32_t)ti) << 16);
    const uint32_t im = (uint32_t)(uint16_t)ti | ((uint32_t)(uint16_t)tr << 16);
    mf_sse_twiddle t;
    t.re_lo = t.re_hi = _mm_set1_epi32((int32_t)re);
    t.im_lo = t.im_hi = _mm_set1_epi32((int32_t)im);
    return t;
}

/* one (re, im) pair in the low 32 bits */
static inline __m128i mf_sse_pair(const int16_t *t) {
    int32_t pair;
    memcpy(&pair, t, sizeof pair);
    return _mm_cvtsi32_si128(pair);
}

/* twiddles tw[k * step] for k = k0 .. k0 + 7 (step in complex values) */
static inline mf_sse_twiddle mf_sse_twiddle_strided(const int16_t *tw, int32_t k0, int32_t step) {
    const int16_t *t = tw + 2 * k0 * step;
    __m128i lo, hi;
    if (step == 1) {
        return mf_sse_twiddle_of(mf_sse_ld(t), mf_sse_ld(t + 8));
    }
#define MF_SSE_PAIR(j) mf_sse_pair(t + 2 * (j) * step)
    lo = _mm_unpacklo_epi64(_mm_unpacklo_epi32(MF_SSE_PAIR(0), MF_SSE_PAIR(1)),
                            _mm_unpacklo_epi32(MF_SSE_PAIR(2), MF_SSE_PAIR(3)));
    hi = _mm_unpacklo_epi64(_mm_unpacklo_epi32(MF_SSE_PAIR(4), MF_SSE_PAIR(5)),
                            _mm_unpacklo_epi32(MF_SSE_PAIR(6), MF_SSE_PAIR(7)));
#undef MF_SSE_PAIR
    return mf_sse_twiddle_of(lo, hi);
}

static inline __m128i mf_sse_round15(__m128i v) {
    return _mm_srai_epi32(_mm_add_epi32(v, _mm_set1_epi32(1 << 14)), 15);
}

static inline mf_sse_cpx mf_sse_cmul(mf_sse_cpx a, const mf_sse_twiddle *t) {
    const __m128i lo = _mm_unpacklo_epi16(a.r, a.i), hi = _mm_unpackhi_epi16(a.r, a.i);
    mf_sse_cpx c;
    c.r = _mm_packs_epi32(mf_sse_round15(_mm_madd_epi16(lo, t->re_lo)),
                          mf_sse_round15(_mm_madd_epi16(hi, t->re_hi)));
    c.i = _mm_packs_epi32(mf_sse_round15(_mm_madd_epi16(lo, t->im_lo)),
                          mf_sse_round15(_mm_madd_epi16(hi, t->im_hi)));
    return c;
}

static inline mf_sse_cpx mf_sse_leg(const int16_t *re, const int16_t *im, int32_t at, __m128i k2) {
    mf_sse_cpx c;
    c.r = mf_sse_fixdiv(mf_sse_ld(re + at), k2);
    c.i = mf_sse_fixdiv(mf_sse_ld(im + at), k2);
    return c;
}

/* Eight radix-4 butterflies (kf_bfly4): legs at `at + q * stride`, read from (sr, si) and written
 * to the same places of (dr, di); tw[q - 1] are the twiddles of legs 1-3, NULL when all are
 * (32767, 0). */
static inline void mf_sse_bfly4(const int16_t *sr, const int16_t *si, int16_t *dr, int16_t *di,
                                int32_t at, int32_t stride, const mf_sse_twiddle *tw) {
    __m128i k2 = _mm_set1_epi16(2 * 8191);
    MF_SSE_OPAQUE(k2);
    const mf_sse_cpx a = mf_sse_leg(sr, si, at, k2);
    mf_sse_cpx b = mf_sse_leg(sr, si, at + stride, k2);
    mf_sse_cpx c = mf_sse_leg(sr, si, at + 2 * stride, k2);
    mf_sse_cpx d = mf_sse_leg(sr, si, at + 3 * stride, k2);
    __m128i s5r, s5i, f0r, f0i, s3r, s3i, s4r, s4i;
    if (tw != NULL) {
        b = mf_sse_cmul(b, &tw[0]);
        c = mf_sse_cmul(c, &tw[1]);
        d = mf_sse_cmul(d, &tw[2]);
    }
    s5r = _mm_sub_epi16(a.r, c.r);
    s5i = _mm_sub_epi16(a.i, c.i);
    f0r = _mm_add_epi16(a.r, c.r);
    f0i = _mm_add_epi16(a.i, c.i);
    s3r = _mm_add_epi16(b.r, d.r);
    s3i = _mm_add_epi16(b.i, d.i);
    s4r = _mm_sub_epi16(b.r, d.r);
    s4i = _mm_sub_epi16(b.i, d.i);
    mf_sse_st(dr + at, _mm_add_epi16(f0r, s3r));
    mf_sse_st(di + at, _mm_add_epi16(f0i, s3i));
    mf_sse_st(dr + at + stride, _mm_add_epi16(s5r, s4i));
    mf_sse_st(di + at + stride, _mm_sub_epi16(s5i, s4r));
    mf_sse_st(dr + at + 2 * stride, _mm_sub_epi16(f0r, s3r));
    mf_sse_st(di + at + 2 * stride, _mm_sub_epi16(f0i, s3i));
    mf_sse_st(dr + at + 3 * stride, _mm_sub_epi16(s5r, s4i));
    mf_sse_st(di + at + 3 * stride, _mm_add_epi16(s5i, s4r));
}

/* 8x8 block transpose: rows src + i * sstride to rows dst + i * dstride */
static inline void mf_sse_transpose8(const int16_t *src, int32_t sstride, int16_t *dst,
                                     int32_t dstride) {
    __m128i a[8], b[8];
    int32_t i;
    for (i = 0; i < 8; ++i) {
        a[i] = mf_sse_ld(src + i * sstride);
    }
    for (i = 0; i < 4; ++i) {
        b[i] = _mm_unpacklo_epi16(a[2 * i], a[2 * i + 1]);
        b[i + 4] = _mm_unpackhi_epi16(a[2 * i], a[2 * i + 1]);
    }
    a[0] = _mm_unpacklo_epi32(b[0], b[1]);
    a[1] = _mm_unpackhi_epi32(b[0], b[1]);
    a[2] = _mm_unpacklo_epi32(b[2], b[3]);
    a[3] = _mm_unpackhi_epi32(b[2], b[3]);
    a[4] = _mm_unpacklo_epi32(b[4], b[5]);
    a[5] = _mm_unpackhi_epi32(b[4], b[5]);
    a[6] = _mm_unpacklo_epi32(b[6], b[7]);
    a[7] = _mm_unpackhi_epi32(b[6], b[7]);
    mf_sse_st(dst, _mm_unpacklo_epi64(a[0], a[2]));
    mf_sse_st(dst + dstride, _mm_unpackhi_epi64(a[0], a[2]));
    mf_sse_st(dst + 2 * dstride, _mm_unpacklo_epi64(a[1], a[3]));
    mf_sse_st(dst + 3 * dstride, _mm_unpackhi_epi64(a[1], a[3]));
    mf_sse_st(dst + 4 * dstride, _mm_unpacklo_epi64(a[4], a[6]));
    mf_sse_st(dst + 5 * dstride, _mm_unpackhi_epi64(a[4], a[6]));
    mf_sse_st(dst + 6 * dstride, _mm_unpacklo_epi64(a[5], a[7]));
    mf_sse_st(dst + 7 * dstride, _mm_unpackhi_epi64(a[5], a[7]));
}

/* lanes in reverse order */
static inline __m128i mf_sse_reverse(__m128i v) {
    v = _mm_shuffle_epi32(v, 0x1B);
    return _mm_shufflehi_epi16(_mm_shufflelo_epi16(v, 0xB1), 0xB1);
}

/* HALF_OF(a + b) and HALF_OF(a - b) of the int sums, in int16: (a >> 1) + (b >> 1) plus the carry
 * of the two low bits (a & b & 1); (a >> 1) - (b >> 1) minus the borrow (~a & b & 1). */
static inline __m128i mf_sse_hsum(__m128i a, __m128i b) {
    const __m128i carry = _mm_and_si128(_mm_and_si128(a, b), _mm_set1_epi16(1));
    return _mm_add_epi16(_mm_add_epi16(_mm_srai_epi16(a, 1), _mm_srai_epi16(b, 1)), carry);
}
static inline __m128i mf_sse_hdiff(__m128i a, __m128i b) {
    const __m128i borrow = _mm_and_si128(_mm_andnot_si128(a, b), _mm_set1_epi16(1));
    return _mm_sub_epi16(_mm_sub_epi16(_mm_srai_epi16(a, 1), _mm_srai_epi16(b, 1)), borrow);
}

/* whether the SSE2 transform applies: every stage radix 4, at least 4 of them */
static int mf_sse_rfft_applies(const mf_signal_rfft_params *p) {
    int32_t s;
    if (p->num_stages < 4) {
        return 0;
    }
    for (s = 0; s < p->num_stages; ++s) {
        if (p->stages[3 * s] != 4) {
            return 0;
        }
    }
    return 1;
}

static void mf_sse_rfft_row(const mf_signal_rfft_params *p, const int16_t *x, int16_t *y,
                            int16_t *work) {
    const int16_t *tw = (const int16_t *)p->twiddles;
    const int16_t *super = (const int16_t *)p->super_twiddles;
    const int32_t n = p->ncfft, lanes = n / 16, in_len = p->in_len; /* in_len <= 2 n */
    int16_t *tre = work, *tim = work + n; /* stage 0 layout */
    int16_t *nre = y, *nim = y + n;       /* natural order, after the transpose */
    mf_sse_twiddle tws[3]; /* twiddles of legs 1-3 (of the split: tws[0]) */
    int32_t q, r, d, k, s;
    /* the row, zero-padded to n complex values, in y (free until the transpose) */
    memcpy(y, x, (size_t)in_len * sizeof *y);
    memset(y + in_len, 0, (size_t)(2 * n - in_len) * sizeof *y);
    /* the input permutation, into stage 0's layout: row q of the layout takes the complex values
     * order[16 r + q], r = 0 .. lanes - 1, eight per step */
    for (q = 0; q < 16; ++q) {
        for (r = 0; r < lanes; r += 8) {
            const uint16_t *o = p->order + q + 16 * r;
            __m128i vr = _mm_setzero_si128(), vi = _mm_setzero_si128();
#define MF_SSE_GATHER(j)                                           \
    vr = _mm_insert_epi16(vr, y[2 * (int32_t)o[16 * (j)]], (j));     \
    vi = _mm_insert_epi16(vi, y[2 * (int32_t)o[16 * (j)] + 1], (j))
            MF_SSE_GATHER(0);
            MF_SSE_GATHER(1);
            MF_SSE_GATHER(2);
            MF_SSE_GATHER(3);
            MF_SSE_GATHER(4);
            MF_SSE_GATHER(5);
            MF_SSE_GATHER(6);
            MF_SSE_GATHER(7);
#undef MF_SSE_GATHER
            mf_sse_st(tre + q * lanes + r, vr);
            mf_sse_st(tim + q * lanes + r, vi);
        }
    }
    /* stage 0: legs q = natural digit 0, twiddles (32767, 0) */
    for (d = 0; d < 4; ++d) {
        for (r = 0; r < lanes; r += 8) {
            mf_sse_bfly4(tre, tim, tre, tim, 4 * d * lanes + r, lanes, NULL);
        }
    }
    /* stage 1: legs = digit 1, k = digit 0, twiddle tw[q * k * fstride] in every lane */
    for (k = 0; k < 4; ++k) {
        const int32_t f = p->stages[3 * 1 + 2];
        for (q = 1; q <= 3; ++q) {
            tws[q - 1] = mf_sse_twiddle_splat(tw[2 * q * k * f], tw[2 * q * k * f + 1]);
        }
        for (r = 0; r < lanes; r += 8) {
            mf_sse_bfly4(tre, tim, tre, tim, k * lanes + r, 4 * lanes, k == 0 ? NULL : tws);
        }
    }
    /* to natural order: (16 x lanes) -> (lanes x 16), both parts */
    for (q = 0; q < 16; q += 8) {
        for (r = 0; r < lanes; r += 8) {
            mf_sse_transpose8(tre + q * lanes + r, lanes, nre + r * 16 + q, 16);
            mf_sse_transpose8(tim + q * lanes + r, lanes, nim + r * 16 + q, 16);
        }
    }
    /* stages 2.. : vectorized over k, from the natural copy in y into work */
    for (s = 2; s < p->num_stages; ++s) {
        const int32_t m = p->stages[3 * s + 1], blocks = p->stages[3 * s + 2];
        const int16_t *sr = s == 2 ? nre : tre, *si = s == 2 ? nim : tim;
        int32_t b;
        for (k = 0; k < m; k += 8) {
            for (q = 1; q <= 3; ++q) {
                tws[q - 1] = mf_sse_twiddle_strided(tw, k, q * blocks);
            }
            for (b = 0; b < blocks; ++b) {
                mf_sse_bfly4(sr, si, tre, tim, 4 * b * m + k, m, tws);
            }
        }
    }
    /* the real FFT's split (kiss_fftr), k and n - k eight at a time */
    {
        __m128i k2 = _mm_set1_epi16(2 * 16383);
        const int32_t dcr = mf_fft_s16_fixdiv(tre[0], 16383), dci = mf_fft_s16_fixdiv(tim[0], 16383);
        int16_t y0r = mf_fft_s16_add((int16_t)dcr, (int16_t)dci);
        int16_t ynr = mf_fft_s16_sub((int16_t)dcr, (int16_t)dci);
        MF_SSE_OPAQUE(k2);
        for (k = 1; k <= n / 2; k += 8) {
            const int32_t back = n - k - 7; /* n - k for lanes 7 .. 0 */
            mf_sse_cpx fpk, fpnk, f1, f2, t;
            __m128i hr, hi2, lr, li;
            fpk.r = mf_sse_fixdiv(mf_sse_ld(tre + k), k2);
            fpk.i = mf_sse_fixdiv(mf_sse_ld(tim + k), k2);
            fpnk.r = mf_sse_fixdiv(mf_sse_reverse(mf_sse_ld(tre + back)), k2);
            /* conj, then divide: the negation wraps in int16 first */
            fpnk.i = mf_sse_fixdiv(_mm_sub_epi16(_mm_setzero_si128(),
                                                 mf_sse_reverse(mf_sse_ld(tim + back))), k2);
            f1.r = _mm_add_epi16(fpk.r, fpnk.r);
            f1.i = _mm_add_epi16(fpk.i, fpnk.i);
            f2.r = _mm_sub_epi16(fpk.r, fpnk.r);
            f2.i = _mm_sub_epi16(fpk.i, fpnk.i);
            tws[0] = mf_sse_twiddle_of(mf_sse_ld(super + 2 * (k - 1)),
                                       mf_sse_ld(super + 2 * (k - 1) + 8));
            t = mf_sse_cmul(f2, &tws[0]);
            hr = mf_sse_hsum(f1.r, t.r);
            hi2 = mf_sse_hsum(f1.i, t.i);
            lr = mf_sse_reverse(mf_sse_hdiff(f1.r, t.r));
            li = mf_sse_reverse(mf_sse_hdiff(t.i, f1.i));
            mf_sse_st(y + 2 * k, _mm_unpacklo_epi16(hr, hi2));
            mf_sse_st(y + 2 * k + 8, _mm_unpackhi_epi16(hr, hi2));
            mf_sse_st(y + 2 * back, _mm_unpacklo_epi16(lr, li));
            mf_sse_st(y + 2 * back + 8, _mm_unpackhi_epi16(lr, li));
        }
        y[0] = y0r;
        y[1] = 0;
        y[2 * n] = ynr;
        y[2 * n + 1] = 0;
    }
}
/* The portable transform of the lengths the SSE2 code does not take, kept out of line so that
 * its stack frame is not added to the SSE2 path's. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void mf_s16_rfft_other(const mf_signal_rfft_params *p, const int16_t *x, int16_t *out,
                              int16_t *work) {
    mf_s16_rfft(p, x, out, work);
}

void mf_signal_rfft_s16(const mf_signal_rfft_params *p, const int16_t *x, int16_t *out,
                        int16_t *work) {
    if (mf_sse_rfft_applies(p)) {
        int32_t r;
        for (r = 0; r < p->rows; ++r) {
            mf_sse_rfft_row(p, x + r * p->in_len, out + r * 2 * (p->ncfft + 1), work);
        }
        return;
    }
    mf_s16_rfft_other(p, x, out, work);
}
#endif

#endif
