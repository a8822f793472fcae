/* The int16 real FFT (SignalRfft) with the Arm DSP extension (arm_dsp/): included at the end of
 * portable/mf_signal_fft_s16.c, whose radix 2, 3 and 5 butterflies it uses, on cores that have
 * the extension. */
#ifndef MF_SIGNAL_FFT_S16_DSP_H
#define MF_SIGNAL_FFT_S16_DSP_H

#include "mf_signal_fft_s16.h"

#if MF_USE_DSP
/* Arm DSP-extension twin of mf_s16_rfft (every plan: radix-4 stages and the real FFT's split here,
 * radix 2, 3 and 5 stages through the portable butterflies, which work on the same layout). A
 * complex value is one 32-bit word, re in the low half and im in the high half (the (r, i) int16
 * pairs of the buffers, read and written with memcpy: rows of odd length are not word aligned).
 * Every half computes exactly the portable C's integers:
 *
 * - C_FIXDIV(v, d) = (v * d + 2^14) >> 15: __smlabb / __smlatb give v * 2d + 2^15 exactly
 *   (|v| <= 2^15, 2d = 16382 or 32766 fits int16, so |v * 2d| < 2^30), which is twice
 *   v * d + 2^14; its bits 16-31 are the wanted value wrapped to int16, and one PKHTB packs the
 *   two results' high halves.
 * - C_MUL(a, t) = ((ar tr - ai ti + 2^14) >> 15, (ar ti + ai tr + 2^14) >> 15): __smlsd and
 *   __smladx with the accumulator 2^14. Twiddles are within +-32767 (floor(.5 + 32767 cos)) and
 *   |ar|, |ai| <= 2^15, so each sum is below 2^31 - 2^16 in magnitude: no product, sum or
 *   rounding add wraps (the C's int arithmetic is exact too). The shift keeps bits 15-30, the
 *   int16 wrap of the C.
 * - Sums and differences wrap in int16 as the C's conversions do: __sadd16 / __ssub16 (modular,
 *   not the saturating __qadd16 / __qsub16); s5 -/+ rot with rot = (s4.i, -s4.r) is one
 *   __ssax / __sasx (the negation wraps in the C first, which changes nothing modulo 2^16).
 *   The butterflies' outputs and the split's conjugate of -32768 do wrap (full-scale square
 *   waves reach them); the butterflies' partial sums (legs of magnitude <= 8191 sqrt 2) and the
 *   split's f1, f2 (halves within +-16383) cannot.
 * - HALF_OF(a + b), HALF_OF(a - b) of the int sums: __shadd16 / __shsub16 compute the 17-bit sum
 *   exactly and shift it arithmetically, the C's (a + b) >> 1 (which always fits int16).
 * - Twiddle (32767, 0), every stage's k = 0, leaves a value divided by 4 (|v| <= 8191)
 *   unchanged, so those legs skip C_MUL; the first stage has only those and is fused with the
 *   input permutation. */

static inline int16x2_t mf_dsp_ld(const int16_t *z, int32_t k) {
    int16x2_t w;
    memcpy(&w, z + 2 * k, sizeof w);
    return w;
}
static inline void mf_dsp_st(int16_t *z, int32_t k, int16x2_t w) { memcpy(z + 2 * k, &w, sizeof w); }

/* The high half of hi and the low half of lo >> s (arithmetic, 1 <= s <= 31) as one word:
 * PKHTB, which ACLE has no intrinsic for (gcc turns the C into three instructions). */
#if defined(__GNUC__)
#define MF_DSP_PKHTB(hi, lo, s, out) \
    __asm__("pkhtb %0, %1, %2, asr #" #s : "=r"(out) : "r"(hi), "r"(lo))
#else
#define MF_DSP_PKHTB(hi, lo, s, out) \
    (out) = (int16x2_t)(((uint32_t)(hi) & 0xFFFF0000u) | ((uint32_t)((lo) >> (s)) & 0xFFFFu))
#endif

/* The constants of a loop: 2 d (C_FIXDIV by d), 2^15 and 2^14 (rounding), hidden from gcc, which
 * would otherwise rebuild each one at every use. */
typedef struct {
    int32_t d2, r15, r14;
} mf_dsp_k;

#if defined(__GNUC__)
#define MF_DSP_OPAQUE(v) __asm__("" : "+r"(v))
#else
#define MF_DSP_OPAQUE(v) (void)0
#endif

static inline mf_dsp_k mf_dsp_k_of(int32_t d) {
    mf_dsp_k c;
    c.d2 = 2 * d;
    c.r15 = 1 << 15;
    c.r14 = 1 << 14;
    MF_DSP_OPAQUE(c.d2);
    MF_DSP_OPAQUE(c.r15);
    MF_DSP_OPAQUE(c.r14);
    return c;
}

/* C_FIXDIV of both halves */
static inline int16x2_t mf_dsp_fixdiv(int16x2_t w, const mf_dsp_k *c) {
    int16x2_t out;
    MF_DSP_PKHTB(__smlatb(w, c->d2, c->r15), __smlabb(w, c->d2, c->r15), 16, out);
    return out;
}

static inline int16x2_t mf_dsp_cmul(int16x2_t a, int16x2_t t, const mf_dsp_k *c) {
    const int32_t re = __smlsd(a, t, c->r14), im = __smladx(a, t, c->r14);
    int16x2_t out;
    MF_DSP_PKHTB((int32_t)((uint32_t)im << 1), re, 15, out);
    return out;
}

/* (lo's low half, hi's high half): PKHBT without shift */
static inline int16x2_t mf_dsp_pack_hi(int16x2_t hi, int16x2_t lo) {
#if defined(__GNUC__)
    int16x2_t out;
    __asm__("pkhbt %0, %1, %2" : "=r"(out) : "r"(lo), "r"(hi));
    return out;
#else
    return (int16x2_t)(((uint32_t)hi & 0xFFFF0000u) | ((uint32_t)lo & 0xFFFFu));
#endif
}

/* kf_bfly4's outputs from its legs (divided, times their twiddles), stored at z[k + q m] */
static inline void mf_dsp_bfly4_out(int16_t *z, int32_t k, int32_t m, int16x2_t a0, int16x2_t s0,
                                    int16x2_t s1, int16x2_t s2) {
    const int16x2_t s5 = __ssub16(a0, s1), f0 = __sadd16(a0, s1);
    const int16x2_t s3 = __sadd16(s0, s2), s4 = __ssub16(s0, s2);
    mf_dsp_st(z, k + 2 * m, __ssub16(f0, s3));
    mf_dsp_st(z, k, __sadd16(f0, s3));
    mf_dsp_st(z, k + m, __ssax(s5, s4));     /* (s5.r + s4.i, s5.i - s4.r) */
    mf_dsp_st(z, k + 3 * m, __sasx(s5, s4)); /* (s5.r - s4.i, s5.i + s4.r) */
}

/* one kf_bfly4 at z[k], legs m apart; tw: twiddles of legs 1-3 (NULL: all (32767, 0)) */
static inline void mf_dsp_bfly4(int16_t *z, int32_t k, int32_t m, const int16x2_t *tw,
                                const mf_dsp_k *c) {
    const int16x2_t a0 = mf_dsp_fixdiv(mf_dsp_ld(z, k), c);
    int16x2_t s0 = mf_dsp_fixdiv(mf_dsp_ld(z, k + m), c);
    int16x2_t s1 = mf_dsp_fixdiv(mf_dsp_ld(z, k + 2 * m), c);
    int16x2_t s2 = mf_dsp_fixdiv(mf_dsp_ld(z, k + 3 * m), c);
    if (tw != NULL) {
        s0 = mf_dsp_cmul(s0, tw[0], c);
        s1 = mf_dsp_cmul(s1, tw[1], c);
        s2 = mf_dsp_cmul(s2, tw[2], c);
    }
    mf_dsp_bfly4_out(z, k, m, a0, s0, s1, s2);
}

/* complex input o of a row: samples 2 o and 2 o + 1, zero past in_len (pairs = in_len / 2) */
static inline int16x2_t mf_dsp_input(const int16_t *x, int32_t o, int32_t pairs, int32_t in_len) {
    if (o < pairs) {
        return mf_dsp_ld(x, o);
    }
    return 2 * o < in_len ? (int16x2_t)(uint16_t)x[2 * o] : 0;
}

/* a radix-4 stage: fstride blocks of 4 m values. With more blocks than butterflies per block, k
 * is the outer loop (each twiddle loaded once), otherwise the inner one (the loop overhead per k
 * would cost more than loading the twiddles again). */
static void mf_dsp_stage4(int16_t *z, const int16_t *tw, int32_t fstride, int32_t m) {
    const int32_t span = 4 * m;
    const mf_dsp_k c = mf_dsp_k_of(8191);
    int32_t k, b;
    int16x2_t t[3];
    if (fstride >= m) {
        for (b = 0; b < fstride; ++b) {
            mf_dsp_bfly4(z, b * span, m, NULL, &c);
        }
        for (k = 1; k < m; ++k) {
            t[0] = mf_dsp_ld(tw, k * fstride);
            t[1] = mf_dsp_ld(tw, 2 * k * fstride);
            t[2] = mf_dsp_ld(tw, 3 * k * fstride);
            for (b = 0; b < fstride; ++b) {
                mf_dsp_bfly4(z, b * span + k, m, t, &c);
            }
        }
        return;
    }
    for (b = 0; b < fstride; ++b) {
        int16_t *zk = z + 2 * b * span;
        const int16_t *const end = zk + 2 * m;
        int32_t j = 0;
        mf_dsp_bfly4(zk, 0, m, NULL, &c);
        for (zk += 2; zk != end; zk += 2) {
            j += fstride;
            t[0] = mf_dsp_ld(tw, j);
            t[1] = mf_dsp_ld(tw, 2 * j);
            t[2] = mf_dsp_ld(tw, 3 * j);
            mf_dsp_bfly4(zk, 0, m, t, &c);
        }
    }
}

static void mf_dsp_rfft_row(const mf_signal_rfft_params *p, const int16_t *x, int16_t *y,
                            int16_t *z) {
    const int16_t *tw = (const int16_t *)p->twiddles;
    const int16_t *super = (const int16_t *)p->super_twiddles;
    const int32_t n = p->ncfft, in_len = p->in_len, pairs = in_len / 2;
    const mf_dsp_k c = mf_dsp_k_of(16383);
    const uint16_t *const order = p->order; /* a local: the memcpy stores may alias p */
    int16x2_t dc;
    int32_t j, s, b, k, first = 0;
    if (p->stages[0] == 4) {
        /* the input permutation fused with the first stage (radix 4, m = 1, no twiddles) */
        const mf_dsp_k c4 = mf_dsp_k_of(8191);
        for (j = 0; j < n; j += 4) {
            mf_dsp_bfly4_out(z, j, 1, mf_dsp_fixdiv(mf_dsp_input(x, order[j], pairs, in_len), &c4),
                             mf_dsp_fixdiv(mf_dsp_input(x, order[j + 1], pairs, in_len), &c4),
                             mf_dsp_fixdiv(mf_dsp_input(x, order[j + 2], pairs, in_len), &c4),
                             mf_dsp_fixdiv(mf_dsp_input(x, order[j + 3], pairs, in_len), &c4));
        }
        first = 1;
    } else {
        /* the input permutation */
        for (j = 0; j < n; ++j) {
            mf_dsp_st(z, j, mf_dsp_input(x, order[j], pairs, in_len));
        }
    }
    for (s = first; s < p->num_stages; ++s) {
        const int32_t radix = p->stages[3 * s], m = p->stages[3 * s + 1];
        const int32_t fstride = p->stages[3 * s + 2];
        if (radix == 4) {
            mf_dsp_stage4(z, tw, fstride, m);
            continue;
        }
        for (b = 0; b < fstride; ++b) {
            int16_t *block = z + 2 * b * radix * m;
            switch (radix) {
            case 2: mf_s16_bfly2(block, tw, fstride, m); break;
            case 3: mf_s16_bfly3(block, tw, fstride, m); break;
            default: mf_s16_bfly5(block, tw, fstride, m); break;
            }
        }
    }
    /* the real FFT's split (kiss_fftr) */
    dc = mf_dsp_fixdiv(mf_dsp_ld(z, 0), &c);
    y[0] = mf_fft_s16_add((int16_t)dc, (int16_t)(dc >> 16));
    y[1] = 0;
    y[2 * n] = mf_fft_s16_sub((int16_t)dc, (int16_t)(dc >> 16));
    y[2 * n + 1] = 0;
    for (k = 1; k <= n / 2; ++k) {
        const int16x2_t znk = mf_dsp_ld(z, n - k);
        const int16x2_t fpk = mf_dsp_fixdiv(mf_dsp_ld(z, k), &c);
        /* conj(znk): the imaginary half negated (wrapping), then divided */
        const int16x2_t fpnk = mf_dsp_fixdiv(mf_dsp_pack_hi(__ssub16(0, znk), znk), &c);
        const int16x2_t f1 = __sadd16(fpk, fpnk);
        const int16x2_t t = mf_dsp_cmul(__ssub16(fpk, fpnk), mf_dsp_ld(super, k - 1), &c);
        mf_dsp_st(y, k, __shadd16(f1, t));
        /* (HALF_OF(f1.r - t.r), HALF_OF(t.i - f1.i)) */
        mf_dsp_st(y, n - k, __shsub16(mf_dsp_pack_hi(t, f1), mf_dsp_pack_hi(f1, t)));
    }
}

void mf_signal_rfft_s16(const mf_signal_rfft_params *p, const int16_t *x, int16_t *out,
                        int16_t *work) {
    int32_t r;
    (void)mf_s16_rfft; /* the MF_NO_DSP build's transform */
    for (r = 0; r < p->rows; ++r) {
        mf_dsp_rfft_row(p, x + r * p->in_len, out + r * 2 * (p->ncfft + 1), work);
    }
}
#endif

#endif
