/* CONV_2D int8 with SSE2 (x86_sse2/): included at the end of portable/mf_conv.c on x86 SSE2 builds.
 *
 * A CONV_2D whose window fits MF_CONV_MAX_COL (col != NULL) is a matrix product, as the Helium
 * kernel: the windows of two output pixels are copied into the scratch as int16 (the zero point
 * for padding taps), then four output channels at a time take PMADDWD dot products of eight
 * window values against their weight rows (TFLite's OHWI order, laid out so by the emitter,
 * sign-extended from int8 as they are loaded), for both pixels at once. The emitter folds the
 * input offset into the bias (bias + offset * sum of the row), so a padding tap adds
 * (zero_point + offset) * w = 0 as TFLM leaves it out. Both windows are read before either pixel's
 * outputs are written (the in-place plan's steps of two pixels). Integer sums are exact (int32
 * wrap-around is the same in every order): the same bits as the portable C. Other convolutions
 * (col == NULL: the portable weight layout) take the portable loops. */
#ifndef MF_CONV_SSE2_H
#define MF_CONV_SSE2_H

#include "mf_conv.h"

#if defined(MF_SIMD_SSE2)

/* The window of output pixel px as k int16 (zero point for padding taps). */
static void conv_column_sse2(const mf_conv_s8_params *p, const int8_t *input, int32_t px,
                             int16_t *col) {
    const int32_t oy = px / p->out_w, ox = px - oy * p->out_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    const int16_t zp = (int16_t)(-p->input_offset);
    const int32_t c = p->in_c;
    int32_t ky, kx, i;
    if (c == 1) { /* a byte per tap (one-channel first layers): a window row at a time */
        for (ky = 0; ky < p->k_h; ++ky, col += p->k_w) {
            const int32_t iy = iy0 + ky * p->dil_h;
            const int8_t *x = input + (size_t)iy * p->in_w;
            kx = 0;
            if (iy < 0 || iy >= p->in_h) {
                for (; kx < p->k_w; ++kx) {
                    col[kx] = zp;
                }
                continue;
            }
            if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) {
                for (; kx + 8 <= p->k_w; kx += 8) {
                    const __m128i v = _mm_loadl_epi64((const __m128i *)(x + ix0 + kx));
                    _mm_storeu_si128((__m128i *)(col + kx), _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8));
                }
            }
            for (; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                col[kx] = ix < 0 || ix >= p->in_w ? zp : x[ix];
            }
        }
        return;
    }
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx, col += c) {
            const int32_t ix = ix0 + kx * p->dil_w;
            const int8_t *x;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                for (i = 0; i < c; ++i) {
                    col[i] = zp;
                }
                continue;
            }
            x = input + ((size_t)iy * p->in_w + ix) * c;
            i = 0;
            for (; i + 16 <= c; i += 16) {
                const __m128i v = _mm_loadu_si128((const __m128i *)(x + i));
                _mm_storeu_si128((__m128i *)(col + i), _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8));
                _mm_storeu_si128((__m128i *)(col + i + 8), _mm_srai_epi16(_mm_unpackhi_epi8(v, v), 8));
            }
            for (; i < c; ++i) {
                col[i] = x[i];
            }
        }
    }
}

/* The four int32 lanes of each of a0..a3 summed: {sum a0, sum a1, sum a2, sum a3}. */
static inline __m128i conv_hsum4_sse2(__m128i a0, __m128i a1, __m128i a2, __m128i a3) {
    const __m128i t0 = _mm_add_epi32(_mm_unpacklo_epi32(a0, a1), _mm_unpackhi_epi32(a0, a1));
    const __m128i t1 = _mm_add_epi32(_mm_unpacklo_epi32(a2, a3), _mm_unpackhi_epi32(a2, a3));
    return _mm_add_epi32(_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1));
}

static inline __m128i conv_w8_sse2(const int8_t *w) { /* eight weights as int16 */
    const __m128i v = _mm_loadl_epi64((const __m128i *)w);
    return _mm_srai_epi16(_mm_unpacklo_epi8(v, v), 8);
}

/* s0[j] / s1[j] = the dot products of columns c0 / c1 with rows w[j] (j < 4), k values. */
static void conv_dot_2x4_sse2(const int16_t *c0, const int16_t *c1, const int8_t *const w[4],
                              int32_t k, int32_t s0[4], int32_t s1[4]) {
    __m128i a00 = _mm_setzero_si128(), a01 = a00, a02 = a00, a03 = a00;
    __m128i a10 = a00, a11 = a00, a12 = a00, a13 = a00;
    int32_t i = 0, j;
    for (; i + 8 <= k; i += 8) {
        const __m128i x0 = _mm_loadu_si128((const __m128i *)(c0 + i));
        const __m128i x1 = _mm_loadu_si128((const __m128i *)(c1 + i));
        __m128i v = conv_w8_sse2(w[0] + i);
        a00 = _mm_add_epi32(a00, _mm_madd_epi16(x0, v));
        a10 = _mm_add_epi32(a10, _mm_madd_epi16(x1, v));
        v = conv_w8_sse2(w[1] + i);
        a01 = _mm_add_epi32(a01, _mm_madd_epi16(x0, v));
        a11 = _mm_add_epi32(a11, _mm_madd_epi16(x1, v));
        v = conv_w8_sse2(w[2] + i);
        a02 = _mm_add_epi32(a02, _mm_madd_epi16(x0, v));
        a12 = _mm_add_epi32(a12, _mm_madd_epi16(x1, v));
        v = conv_w8_sse2(w[3] + i);
        a03 = _mm_add_epi32(a03, _mm_madd_epi16(x0, v));
        a13 = _mm_add_epi32(a13, _mm_madd_epi16(x1, v));
    }
    _mm_storeu_si128((__m128i *)s0, conv_hsum4_sse2(a00, a01, a02, a03));
    _mm_storeu_si128((__m128i *)s1, conv_hsum4_sse2(a10, a11, a12, a13));
    for (; i < k; ++i) { /* the last k mod 8 values; wrapping int32 sums, as the lanes' */
        for (j = 0; j < 4; ++j) {
            s0[j] = (int32_t)((uint32_t)s0[j] + (uint32_t)((int32_t)c0[i] * w[j][i]));
            s1[j] = (int32_t)((uint32_t)s1[j] + (uint32_t)((int32_t)c1[i] * w[j][i]));
        }
    }
}

/* 2^e per lane (0 <= e <= 31; 2^31 comes out as 0x80000000, its uint32 value): a float's exponent
 * field, converted. */
static inline __m128i conv_pow2_sse2(__m128i e) {
    return _mm_cvttps_epi32(_mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(e, _mm_set1_epi32(127)), 23)));
}

/* Per lane bits 31..62 of the 64-bit a * b + add, where a * b is the unsigned product less
 * corr * 2^32 (the sign corrections of a signed operand) and add (>= 0, < 2^31) is per lane. */
static inline __m128i conv_high31_sse2(__m128i a, __m128i b, __m128i corr, __m128i add) {
    const __m128i lo_words = _mm_set_epi32(0, -1, 0, -1);
    __m128i e = _mm_mul_epu32(a, b);
    __m128i o = _mm_mul_epu32(_mm_srli_epi64(a, 32), _mm_srli_epi64(b, 32));
    e = _mm_sub_epi64(_mm_add_epi64(e, _mm_and_si128(add, lo_words)), _mm_slli_epi64(corr, 32));
    o = _mm_sub_epi64(_mm_add_epi64(o, _mm_srli_epi64(add, 32)), _mm_andnot_si128(lo_words, corr));
    e = _mm_srli_epi64(e, 31);
    o = _mm_srli_epi64(o, 31);
    return _mm_unpacklo_epi32(_mm_shuffle_epi32(e, _MM_SHUFFLE(0, 0, 2, 0)),
                              _mm_shuffle_epi32(o, _MM_SHUFFLE(0, 0, 2, 0)));
}

static inline __m128i conv_max_sse2(__m128i a, __m128i b) {
    const __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, b));
}

static inline __m128i conv_min_sse2(__m128i a, __m128i b) {
    const __m128i gt = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(gt, b), _mm_andnot_si128(gt, a));
}

/* Four outputs of channels c..c+3 from their int32 sums (bias included): mf_requantize's exact
 * bits, then output offset and activation clamp, as int8 in the low four bytes.
 * x << left is x * 2^left (low word); high = bits 31..62 of x' * M + 2^30; the rounding divide by
 * 2^r is floor((high + 2^(r-1) - (high < 0)) / 2^r) = bits 31..62 of
 * high * 2^(31-r) + 2^30 - (high < 0) * 2^(31-r) (r >= 1; r = 0: high * 2^31, i.e. high). */
static inline __m128i conv_requant4_sse2(const mf_conv_s8_params *p, __m128i acc, const int32_t *multiplier,
                                         const int32_t *left_shift, const int32_t *right_shift) {
    const __m128i mult = _mm_loadu_si128((const __m128i *)multiplier);
    const __m128i left = conv_pow2_sse2(_mm_loadu_si128((const __m128i *)left_shift));
    const __m128i right = _mm_loadu_si128((const __m128i *)right_shift);
    const __m128i zero = _mm_setzero_si128();
    const __m128i e = _mm_mul_epu32(acc, left); /* x << left: the low words of x * 2^left */
    const __m128i o = _mm_mul_epu32(_mm_srli_epi64(acc, 32), _mm_srli_epi64(left, 32));
    const __m128i x = _mm_unpacklo_epi32(_mm_shuffle_epi32(e, _MM_SHUFFLE(0, 0, 2, 0)),
                                         _mm_shuffle_epi32(o, _MM_SHUFFLE(0, 0, 2, 0)));
    const __m128i x_corr = _mm_add_epi32(_mm_and_si128(_mm_srai_epi32(x, 31), mult),
                                         _mm_and_si128(_mm_srai_epi32(mult, 31), x));
    const __m128i high = conv_high31_sse2(x, mult, x_corr, _mm_set1_epi32(1 << 30));
    const __m128i rounding = _mm_cmpgt_epi32(right, zero); /* r >= 1 */
    const __m128i m = conv_pow2_sse2(_mm_sub_epi32(_mm_set1_epi32(31), right));
    const __m128i neg = _mm_srai_epi32(high, 31);
    const __m128i add = _mm_and_si128(rounding, _mm_sub_epi32(_mm_set1_epi32(1 << 30), _mm_and_si128(neg, m)));
    __m128i v = conv_high31_sse2(high, m, _mm_and_si128(neg, m), add);
    v = _mm_add_epi32(v, _mm_set1_epi32(p->output_offset));
    v = conv_max_sse2(v, _mm_set1_epi32(p->act_min));
    v = conv_min_sse2(v, _mm_set1_epi32(p->act_max));
    v = _mm_packs_epi32(v, v);
    return _mm_packs_epi16(v, v);
}

/* n <= 4 outputs of channels c.. from their sums (bias included); past the last channel the
 * parameters are the last channel's, and nothing is stored. */
static inline void conv_store4_sse2(const mf_conv_s8_params *p, __m128i acc, int32_t c, int8_t *out,
                                    int32_t n) {
    int32_t bytes;
    if (n == 4) {
        bytes = _mm_cvtsi128_si32(conv_requant4_sse2(p, acc, p->multiplier + c, p->left_shift + c,
                                                     p->right_shift + c));
        memcpy(out, &bytes, 4);
    } else {
        int32_t m[4], l[4], r[4], j;
        for (j = 0; j < 4; ++j) {
            const int32_t k = c + MF_MIN(j, n - 1);
            m[j] = p->multiplier[k];
            l[j] = p->left_shift[k];
            r[j] = p->right_shift[k];
        }
        bytes = _mm_cvtsi128_si32(conv_requant4_sse2(p, acc, m, l, r));
        for (j = 0; j < n; ++j) {
            out[j] = (int8_t)(bytes >> (8 * j));
        }
    }
}

/* The bias of channels c.. (n <= 4; past the last channel: 0). */
static inline __m128i conv_bias4_sse2(const int32_t *bias, int32_t c, int32_t n) {
    int32_t b[4] = {0, 0, 0, 0}, j;
    if (n == 4) {
        return _mm_loadu_si128((const __m128i *)(bias + c));
    }
    for (j = 0; j < n; ++j) {
        b[j] = bias[c + j];
    }
    return _mm_loadu_si128((const __m128i *)b);
}

static void conv_matmul_sse2(const mf_conv_s8_params *p, const int8_t *input, int8_t *output,
                             int16_t *col) {
    const int32_t k = p->k_h * p->k_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    int16_t *col1 = col + k;
    int32_t px, oc, j;
    for (px = 0; px < pixels; px += 2) {
        const int32_t two = px + 1 < pixels;
        int8_t *out0 = output + (size_t)px * p->out_c;
        int8_t *out1 = out0 + p->out_c;
        conv_column_sse2(p, input, px, col);
        if (two) {
            conv_column_sse2(p, input, px + 1, col1);
        }
        for (oc = 0; oc < p->out_c; oc += 4) {
            const int32_t n = MF_MIN(4, p->out_c - oc);
            const int8_t *w[4];
            int32_t s0[4], s1[4];
            __m128i bias;
            for (j = 0; j < 4; ++j) { /* past the last channel: its row again, not stored */
                w[j] = p->weights + (size_t)(oc + MF_MIN(j, n - 1)) * k;
            }
            conv_dot_2x4_sse2(col, two ? col1 : col, w, k, s0, s1);
            bias = conv_bias4_sse2(p->bias, oc, n);
            conv_store4_sse2(p, _mm_add_epi32(_mm_loadu_si128((const __m128i *)s0), bias), oc, out0 + oc, n);
            if (two) {
                conv_store4_sse2(p, _mm_add_epi32(_mm_loadu_si128((const __m128i *)s1), bias), oc,
                                 out1 + oc, n);
            }
        }
    }
}

void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output, int16_t *col) {
    if (col != NULL) {
        conv_matmul_sse2(p, input, output, col);
    } else {
        conv_portable_s8(p, input, output);
    }
}

/* Depth multiplier 1, the portable weight layout [k_h][k_w][C] and bias: per output pixel and
 * block of MF_CONV_BLOCK channels (the portable step: the block's window is read before its
 * outputs are written), eight channels at a time over the in-image taps: (x + offset) * w exact in
 * int16 (PMULLW), widened and added to two int32x4 sums; the last C mod 8 channels as the portable
 * loop. */
static void dw_block_sse2(const mf_conv_s8_params *p, const int8_t *input, int32_t iy0, int32_t ix0,
                          int32_t c0, int32_t n, int32_t *acc) {
    const __m128i off = _mm_set1_epi16((int16_t)p->input_offset);
    const int32_t C = p->out_c;
    int32_t g = 0, ky, kx, c;
    for (; g + 8 <= n; g += 8) {
        __m128i lo = _mm_loadu_si128((const __m128i *)(p->bias + c0 + g));
        __m128i hi = _mm_loadu_si128((const __m128i *)(p->bias + c0 + g + 4));
        for (ky = 0; ky < p->k_h; ++ky) {
            const int32_t iy = iy0 + ky * p->dil_h;
            if (iy < 0 || iy >= p->in_h) {
                continue;
            }
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                __m128i x, w, prod;
                if (ix < 0 || ix >= p->in_w) {
                    continue;
                }
                x = _mm_loadl_epi64((const __m128i *)(input + ((size_t)iy * p->in_w + ix) * C + c0 + g));
                w = conv_w8_sse2(p->weights + ((size_t)ky * p->k_w + kx) * C + c0 + g);
                x = _mm_add_epi16(_mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8), off);
                prod = _mm_mullo_epi16(x, w);
                lo = _mm_add_epi32(lo, _mm_srai_epi32(_mm_unpacklo_epi16(prod, prod), 16));
                hi = _mm_add_epi32(hi, _mm_srai_epi32(_mm_unpackhi_epi16(prod, prod), 16));
            }
        }
        _mm_storeu_si128((__m128i *)(acc + g), lo);
        _mm_storeu_si128((__m128i *)(acc + g + 4), hi);
    }
    for (c = g; c < n; ++c) {
        acc[c] = p->bias[c0 + c];
    }
    if (g == n) {
        return;
    }
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            const int8_t *xc, *w;
            if (ix < 0 || ix >= p->in_w) {
                continue;
            }
            xc = input + ((size_t)iy * p->in_w + ix) * C + c0;
            w = p->weights + ((size_t)ky * p->k_w + kx) * C + c0;
            for (c = g; c < n; ++c) {
                acc[c] += (int16_t)((int16_t)(xc[c] + p->input_offset) * (int16_t)w[c]);
            }
        }
    }
}

void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, c0;
    int32_t acc[MF_CONV_BLOCK];
    if (p->depth_multiplier != 1) {
        depthwise_portable_s8(p, input, output);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * p->out_c;
            for (c0 = 0; c0 < p->out_c; c0 += MF_CONV_BLOCK) {
                const int32_t n = MF_MIN(MF_CONV_BLOCK, p->out_c - c0);
                int32_t c;
                dw_block_sse2(p, input, iy0, ix0, c0, n, acc);
                for (c = 0; c < n; c += 4) {
                    conv_store4_sse2(p, _mm_loadu_si128((const __m128i *)(acc + c)), c0 + c, out + c0 + c,
                                     MF_MIN(4, n - c));
                }
            }
        }
    }
}
#endif

#endif
