/* The audio front end's signal kernels with SSE2 (x86_sse2/): included at the end of
 * portable/mf_signal.c on x86 SSE2 builds, whose static helpers they share. Each function here is
 * a kernel, or a part a portable kernel is built from, that mf_signal.c leaves out
 * (MF_VARIANT_SIGNAL_*): vector loops computing the portable C's integers, then the portable
 * scalar steps for the elements past the last whole vector. */
#ifndef MF_SIGNAL_SSE2_H
#define MF_SIGNAL_SSE2_H

#include "mf_signal.h"

#if defined(MF_SIMD_SSE2)
/* Eight window values: the 32-bit products from their low and high halves (pmullw / pmulhw),
 * the arithmetic shift, and packssdw's saturation to int16 (the portable loop's clamp). */
static inline void mf_sse_window8(const int16_t *x, const int16_t *w, int16_t *y, __m128i count) {
    const __m128i xv = _mm_loadu_si128((const __m128i *)(const void *)x);
    const __m128i wv = _mm_loadu_si128((const __m128i *)(const void *)w);
    const __m128i lo = _mm_mullo_epi16(xv, wv), hi = _mm_mulhi_epi16(xv, wv);
    const __m128i p0 = _mm_sra_epi32(_mm_unpacklo_epi16(lo, hi), count);
    const __m128i p1 = _mm_sra_epi32(_mm_unpackhi_epi16(lo, hi), count);
    _mm_storeu_si128((__m128i *)(void *)y, _mm_packs_epi32(p0, p1));
}

void mf_signal_window(const mf_signal_window_params *p, const int16_t *x, int16_t *out) {
    /* locals: stores through `out` could alias the params */
    const int32_t rows = p->rows, n = p->length, shift = p->shift;
    const int16_t *weights = p->weights;
    const __m128i count = _mm_cvtsi32_si128(shift);
    int32_t r, i;
    for (r = 0; r < rows; ++r) {
        const int16_t *xr = x + r * n;
        int16_t *yr = out + r * n;
        for (i = 0; i + 16 <= n; i += 16) {
            mf_sse_window8(xr + i, weights + i, yr + i, count);
            mf_sse_window8(xr + i + 8, weights + i + 8, yr + i + 8, count);
        }
        for (; i + 8 <= n; i += 8) {
            mf_sse_window8(xr + i, weights + i, yr + i, count);
        }
        for (; i < n; ++i) {
            yr[i] = mf_window_value(xr[i], weights[i], shift);
        }
    }
}

/* mf_signal_fft_auto_scale's scans and shift (see portable/mf_signal.c) */

static void mf_min_max16(const int16_t *x, int32_t n, int32_t *hi, int32_t *lo) {
    int32_t h = 0, l = 0, i = 0;
    __m128i vh = _mm_setzero_si128(), vl = _mm_setzero_si128();
    __m128i vh2 = vh, vl2 = vl;
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(x + i));
        const __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(x + i + 8));
        vh = _mm_max_epi16(vh, v);
        vl = _mm_min_epi16(vl, v);
        vh2 = _mm_max_epi16(vh2, v2);
        vl2 = _mm_min_epi16(vl2, v2);
    }
    vh = _mm_max_epi16(vh, vh2);
    vl = _mm_min_epi16(vl, vl2);
    for (; i + 8 <= n; i += 8) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(x + i));
        vh = _mm_max_epi16(vh, v);
        vl = _mm_min_epi16(vl, v);
    }
    vh = _mm_max_epi16(vh, _mm_shuffle_epi32(vh, 0x4E));
    vl = _mm_min_epi16(vl, _mm_shuffle_epi32(vl, 0x4E));
    vh = _mm_max_epi16(vh, _mm_shuffle_epi32(vh, 0xB1));
    vl = _mm_min_epi16(vl, _mm_shuffle_epi32(vl, 0xB1));
    vh = _mm_max_epi16(vh, _mm_srli_epi32(vh, 16));
    vl = _mm_min_epi16(vl, _mm_srli_epi32(vl, 16));
    h = mf_wrap16(_mm_cvtsi128_si32(vh)); /* lane 0 */
    l = mf_wrap16(_mm_cvtsi128_si32(vl));
    for (; i < n; ++i) {
        h = MF_MAX(h, (int32_t)x[i]);
        l = MF_MIN(l, (int32_t)x[i]);
    }
    *hi = h;
    *lo = l;
}

static int32_t mf_last_min16(const int16_t *x, int32_t n) {
    int32_t i = n;
    const __m128i min = _mm_set1_epi16(-32768);
    for (; i >= 8; i -= 8) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(x + i - 8));
        const int mask = _mm_movemask_epi8(_mm_cmpeq_epi16(v, min));
        if (mask) {
            return i - 8 + (31 - mf_clz32((uint32_t)mask)) / 2;
        }
    }
    for (--i; x[i] != -32768; --i) {
    }
    return i;
}

static int32_t mf_rising_negative_end(const int16_t *x, int32_t k, int32_t n) {
    const __m128i zero = _mm_setzero_si128();
    for (; k + 8 <= n; k += 8) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(x + k));
        const __m128i prev = _mm_loadu_si128((const __m128i *)(const void *)(x + k - 1));
        const int mask = _mm_movemask_epi8(
            _mm_and_si128(_mm_cmpgt_epi16(v, prev), _mm_cmplt_epi16(v, zero)));
        if (mask != 0xFFFF) {
            return k + __builtin_ctz(~(unsigned)mask) / 2;
        }
    }
    for (; k < n && x[k - 1] < x[k] && x[k] < 0; ++k) {
    }
    return k;
}

static void mf_shift_left16(const int16_t *x, int16_t *out, int32_t n, int32_t bits) {
    int32_t i = 0;
    const __m128i count = _mm_cvtsi32_si128(bits);
    for (; i + 16 <= n; i += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(x + i));
        const __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(x + i + 8));
        _mm_storeu_si128((__m128i *)(void *)(out + i), _mm_sll_epi16(v, count));
        _mm_storeu_si128((__m128i *)(void *)(out + i + 8), _mm_sll_epi16(v2, count));
    }
    for (; i + 8 <= n; i += 8) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(x + i));
        _mm_storeu_si128((__m128i *)(void *)(out + i), _mm_sll_epi16(v, count));
    }
    for (; i < n; ++i) {
        out[i] = mf_wrap16((int32_t)((uint32_t)(int32_t)x[i] << bits));
    }
}

static void mf_energy_pairs(const int16_t *pairs, uint32_t *energy, uint32_t *energy_end) {
    /* pmaddwd on the interleaved (re, im) pairs is re * re + im * im with the same int32 wrap
     * (two -32768 give 0x80000000). */
    for (; energy_end - energy >= 8; energy += 8, pairs += 16) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)pairs);
        const __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(pairs + 8));
        _mm_storeu_si128((__m128i *)(void *)energy, _mm_madd_epi16(v, v));
        _mm_storeu_si128((__m128i *)(void *)(energy + 4), _mm_madd_epi16(v2, v2));
    }
    if (energy_end - energy >= 4) {
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)pairs);
        _mm_storeu_si128((__m128i *)(void *)energy, _mm_madd_epi16(v, v));
        energy += 4;
        pairs += 8;
    }
    for (; energy < energy_end; ++energy, pairs += 2) {
        const int32_t re = pairs[0], im = pairs[1];
        *energy = (uint32_t)(re * re) + (uint32_t)(im * im);
    }
}

/* The filter bank for tables of blocks (p->blocks): 32 x 32 -> 64-bit unsigned products
 * (pmuludq) of the even and odd lanes of 4 bins, summed in two uint64 lanes; sums modulo 2^64 in
 * any order are the portable loop's. The weights are read band after band. */
static int mf_filter_bank_blocks(const mf_signal_filter_bank_params *p, const uint32_t *x,
                                 uint64_t *out) {
    const __m128i zero = _mm_setzero_si128();
    const int16_t *w = p->weights, *u = p->unweights;
    const int16_t *freq_starts = p->freq_starts, *widths = p->widths;
    const int32_t channels = p->channels;
    __m128i carried = zero; /* lane 1: the previous band's unweighted sum */
    int32_t c;
    for (c = 0; c <= channels; ++c) {
        const uint32_t *xc = x + freq_starts[c];
        const int16_t *w_end = w + widths[c];
        __m128i aw = zero, au = zero, sums;
        for (; w != w_end;) {
            const __m128i xv = _mm_loadu_si128((const __m128i *)(const void *)xc);
            const __m128i xo = _mm_srli_epi64(xv, 32);
            const __m128i wv = _mm_unpacklo_epi16(_mm_loadl_epi64((const __m128i *)(const void *)w), zero);
            const __m128i uv = _mm_unpacklo_epi16(_mm_loadl_epi64((const __m128i *)(const void *)u), zero);
            aw = _mm_add_epi64(aw, _mm_mul_epu32(xv, wv));
            au = _mm_add_epi64(au, _mm_mul_epu32(xv, uv));
            aw = _mm_add_epi64(aw, _mm_mul_epu32(xo, _mm_srli_epi64(wv, 32)));
            au = _mm_add_epi64(au, _mm_mul_epu32(xo, _mm_srli_epi64(uv, 32)));
            xc += 4;
            w += 4;
            u += 4;
        }
        /* lane 0: the weighted sum, lane 1: the unweighted one */
        sums = _mm_add_epi64(_mm_unpacklo_epi64(aw, au), _mm_unpackhi_epi64(aw, au));
        if (c > 0) {
            _mm_storel_epi64((__m128i *)(void *)(out + c - 1),
                             _mm_add_epi64(sums, _mm_unpackhi_epi64(carried, carried)));
        }
        carried = sums;
    }
    return 1;
}

/* floor(sqrt(x)) for any uint64 (at most 0xFFFFFFFF). */
static uint64_t mf_floor_sqrt64(uint64_t x) {
    uint64_t r;
    if ((x >> 53) == 0) {
        /* x is exact as a double and sqrtsd rounds monotonically: the truncated root is not
         * below the floor root (which is representable) and at most one above it. */
        const __m128d d = _mm_set_sd((double)(int64_t)x);
        r = (uint64_t)(int64_t)_mm_cvtsd_f64(_mm_sqrt_sd(d, d));
        return r - (r * r > x);
    }
    {
        /* x rounded to a double (relative error 2^-53, (x >> 1) * 2 keeps it in int64): the
         * root is within one of the floor root (< 2^32), corrected both ways. */
        const __m128d d = _mm_set_sd((double)(int64_t)(x >> 1) * 2.0);
        r = (uint64_t)(int64_t)_mm_cvtsd_f64(_mm_sqrt_sd(d, d));
    }
    r -= r >> 32; /* 2^32 -> 0xFFFFFFFF */
    if (r * r > x) {
        --r;
    } else if (x - r * r > 2 * r) { /* (r + 1)^2 <= x; never true for r = 0xFFFFFFFF */
        ++r;
    }
    return r;
}

void mf_signal_filter_bank_sqrt(int32_t n, const uint64_t *x, const int32_t *shift, uint32_t *out) {
    const uint32_t s = (uint32_t)*shift & 31u; /* x86-64 masks the shift count */
    /* Two values a step when both are below 2^52, in doubles, where every integer involved
     * (x, r^2 + r < 2^53) is exact. The rounded root is round(sqrt(x)) (the floor root r goes up
     * when x - r^2 > r, i.e. x > (r + 1/2)^2, never a tie), so r from the double root rounded to
     * an integer (+ 2^52 - 2^52), corrected once: up when x > r^2 + r, down when x <= r^2 - r
     * (kept >= 0), then capped at 0xFFFF below 2^32 (the roots stay below 2^26 above). */
    const __m128i zero = _mm_setzero_si128(), count = _mm_cvtsi32_si128((int32_t)s);
    const __m128i exponent = _mm_set1_epi64x(0x4330000000000000); /* 2^52 */
    const __m128d two52 = _mm_set1_pd(4503599627370496.0), one = _mm_set1_pd(1.0);
    const __m128d two32 = _mm_set1_pd(4294967296.0), cap16 = _mm_set1_pd(65535.0);
    int32_t i = 0;
    for (; i + 2 <= n; i += 2) {
        const __m128i xv = _mm_loadu_si128((const __m128i *)(const void *)(x + i));
        __m128d xd, r, sq, small;
        if (_mm_movemask_epi8(_mm_cmpeq_epi32(_mm_srli_epi64(xv, 52), zero)) != 0xFFFF) {
            out[i] = mf_sqrt64(x[i]) >> s;
            out[i + 1] = mf_sqrt64(x[i + 1]) >> s;
            continue;
        }
        xd = _mm_sub_pd(_mm_castsi128_pd(_mm_or_si128(xv, exponent)), two52);
        r = _mm_sub_pd(_mm_add_pd(_mm_sqrt_pd(xd), two52), two52);
        sq = _mm_mul_pd(r, r);
        r = _mm_add_pd(r, _mm_and_pd(_mm_cmplt_pd(_mm_add_pd(sq, r), xd), one));
        r = _mm_sub_pd(r, _mm_and_pd(_mm_cmpge_pd(_mm_sub_pd(sq, r), xd), one));
        r = _mm_max_pd(r, _mm_setzero_pd());
        small = _mm_cmplt_pd(xd, two32);
        r = _mm_min_pd(r, _mm_or_pd(_mm_and_pd(small, cap16), _mm_andnot_pd(small, two32)));
        _mm_storel_epi64((__m128i *)(void *)(out + i), _mm_srl_epi32(_mm_cvttpd_epi32(r), count));
    }
    for (; i < n; ++i) {
        out[i] = mf_sqrt64(x[i]) >> s;
    }
}

/* Unsigned 32-bit a > b (SSE2 compares signed: flip the sign bits). */
static inline __m128i mf_sse_gt_u32(__m128i a, __m128i b) {
    const __m128i bias = _mm_set1_epi32((int32_t)0x80000000u);
    return _mm_cmpgt_epi32(_mm_xor_si128(a, bias), _mm_xor_si128(b, bias));
}

static inline __m128i mf_sse_select(__m128i mask, __m128i a, __m128i b) {
    return _mm_or_si128(_mm_and_si128(mask, a), _mm_andnot_si128(mask, b));
}

/* The low 32 bits of the lane products (pmulld is SSE4.1). */
static inline __m128i mf_sse_mullo32(__m128i a, __m128i b) {
    const __m128i even = _mm_mul_epu32(a, b);
    const __m128i odd = _mm_mul_epu32(_mm_srli_epi64(a, 32), _mm_srli_epi64(b, 32));
    return _mm_unpacklo_epi32(_mm_shuffle_epi32(even, 0x08), _mm_shuffle_epi32(odd, 0x08));
}

/* The low 32 bits of the 64-bit lanes of even (channels 0, 2) and odd (1, 3) back in order. */
static inline __m128i mf_sse_merge_lo32(__m128i even, __m128i odd) {
    const __m128i low = _mm_set_epi32(0, -1, 0, -1);
    return _mm_or_si128(_mm_and_si128(even, low), _mm_slli_epi64(odd, 32));
}

void mf_signal_spectral_subtraction(const mf_signal_spectral_subtraction_params *p,
                                    const uint32_t *x, uint32_t *out, uint32_t *noise_out,
                                    uint32_t *state) {
    /* Four channels a step (from an even one: lanes 0 and 2 take the smoothing, 1 and 3 the
     * alternate), the uint64 products from pmuludq, shifted and truncated to uint32 as in the
     * portable loop (mf_spectral_subtraction_from), which takes the last channels. */
    const __m128i sb = _mm_cvtsi32_si128(p->smoothing_bits);
    const __m128i tb = _mm_cvtsi32_si128(p->subtraction_bits);
    const __m128i s_even = _mm_set1_epi32((int32_t)p->smoothing);
    const __m128i s_odd = _mm_set1_epi32((int32_t)p->alternate_smoothing);
    const __m128i m_even = _mm_set1_epi32((int32_t)p->one_minus_smoothing);
    const __m128i m_odd = _mm_set1_epi32((int32_t)p->alternate_one_minus_smoothing);
    const __m128i remain = _mm_set1_epi32((int32_t)p->min_signal_remaining);
    int32_t i = 0;
    for (; i + 4 <= p->channels; i += 4) {
        const __m128i xv = _mm_loadu_si128((const __m128i *)(const void *)(x + i));
        const __m128i sv = _mm_loadu_si128((const __m128i *)(const void *)(state + i));
        const __m128i scaled = _mm_sll_epi32(xv, sb);
        const __m128i ne = _mm_srl_epi64(_mm_add_epi64(_mm_mul_epu32(scaled, s_even),
                                                       _mm_mul_epu32(sv, m_even)), tb);
        const __m128i no = _mm_srl_epi64(
            _mm_add_epi64(_mm_mul_epu32(_mm_srli_epi64(scaled, 32), s_odd),
                          _mm_mul_epu32(_mm_srli_epi64(sv, 32), m_odd)), tb);
        const __m128i fe = _mm_srl_epi64(_mm_mul_epu32(xv, remain), tb);
        const __m128i fo = _mm_srl_epi64(_mm_mul_epu32(_mm_srli_epi64(xv, 32), remain), tb);
        const __m128i floor_value = mf_sse_merge_lo32(fe, fo);
        __m128i noise = mf_sse_merge_lo32(ne, no);
        const __m128i above = mf_sse_gt_u32(noise, scaled);
        const __m128i estimate = mf_sse_select(above, scaled, noise);
        __m128i subtracted;
        if (p->clamping) {
            noise = estimate;
        }
        _mm_storeu_si128((__m128i *)(void *)(state + i), noise);
        _mm_storeu_si128((__m128i *)(void *)(noise_out + i), noise);
        subtracted = _mm_srl_epi32(_mm_sub_epi32(scaled, estimate), sb);
        _mm_storeu_si128((__m128i *)(void *)(out + i),
                         mf_sse_select(mf_sse_gt_u32(subtracted, floor_value), subtracted,
                                       floor_value));
    }
    mf_spectral_subtraction_from(p, x, out, noise_out, state, i);
}

/* mf_log32 of four lanes (any value: lanes <= 1 give garbage the caller masks). The exponent
 * and the 16 bits under the leading one come from the float of v, exact for v < 2^24, else of
 * v >> 8 (exponent + 8; the truncated bits are the ones Log32 drops too). */
static inline __m128i mf_sse_log32(__m128i v, __m128i out_scale, const uint16_t *lut) {
    const __m128i small = _mm_cmpeq_epi32(_mm_srli_epi32(v, 24), _mm_setzero_si128());
    const __m128i t = mf_sse_select(small, v, _mm_srli_epi32(v, 8));
    const __m128i bits = _mm_castps_si128(_mm_cvtepi32_ps(t));
    const __m128i integer = _mm_add_epi32(
        _mm_sub_epi32(_mm_srli_epi32(bits, 23), _mm_set1_epi32(127)),
        _mm_andnot_si128(small, _mm_set1_epi32(8)));
    const __m128i frac = _mm_and_si128(_mm_srli_epi32(bits, 7), _mm_set1_epi32(0xFFFF));
    const __m128i seg = _mm_srli_epi32(frac, 9);
    const int s0 = _mm_cvtsi128_si32(seg), s1 = _mm_extract_epi16(seg, 2);
    const int s2 = _mm_extract_epi16(seg, 4), s3 = _mm_extract_epi16(seg, 6);
    const __m128i c0 = _mm_set_epi32(lut[s3], lut[s2], lut[s1], lut[s0]);
    const __m128i c1 = _mm_set_epi32(lut[s3 + 1], lut[s2 + 1], lut[s1 + 1], lut[s0 + 1]);
    /* (c1 - c0) * (frac & 511): int16 values in the low halves (high halves 0 or the sign) */
    const __m128i rel = _mm_srai_epi32(
        _mm_madd_epi16(_mm_sub_epi32(c1, c0), _mm_and_si128(frac, _mm_set1_epi32(511))), 16);
    const __m128i log2 = _mm_add_epi32(_mm_slli_epi32(integer, 16),
                                       _mm_add_epi32(_mm_add_epi32(frac, c0), rel));
    /* (45426 * log2 + 32768) >> 16 in 64 bits (log2 < 2^22) */
    const __m128i k = _mm_set1_epi32(45426), half = _mm_set_epi32(0, 32768, 0, 32768);
    const __m128i le = _mm_srli_epi64(_mm_add_epi64(_mm_mul_epu32(log2, k), half), 16);
    const __m128i lo = _mm_srli_epi64(
        _mm_add_epi64(_mm_mul_epu32(_mm_srli_epi64(log2, 32), k), half), 16);
    const __m128i loge = mf_sse_merge_lo32(le, lo);
    return _mm_srli_epi32(_mm_add_epi32(mf_sse_mullo32(out_scale, loge), _mm_set1_epi32(32768)),
                          16);
}

void mf_signal_filter_bank_log(const mf_signal_log_params *p, const uint32_t *x, int16_t *out) {
    const int32_t channels = p->channels, bits = p->correction_bits;
    const uint32_t scale = p->output_scale;
    const uint16_t *lut = p->lut;
    /* Four channels a step; the result (< 2^16) saturates to 32767 in packssdw, lanes with
     * v <= 1 are zeroed. */
    const __m128i count = _mm_cvtsi32_si128(bits), s = _mm_set1_epi32((int32_t)scale);
    int32_t i = 0;
    for (; i + 4 <= channels; i += 4) {
        const __m128i v = _mm_sll_epi32(
            _mm_loadu_si128((const __m128i *)(const void *)(x + i)), count);
        const __m128i low = _mm_cmpeq_epi32(_mm_srli_epi32(v, 1), _mm_setzero_si128());
        const __m128i l = _mm_andnot_si128(low, mf_sse_log32(v, s, lut));
        _mm_storel_epi64((__m128i *)(void *)(out + i), _mm_packs_epi32(l, l));
    }
    mf_log_from(x, out, i, channels, bits, scale, lut);
}
#endif

#endif
