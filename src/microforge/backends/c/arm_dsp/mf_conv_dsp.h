/* CONV_2D / DEPTHWISE_CONV_2D int8 kernels with the Arm DSP extension (arm_dsp/): included at the
 * end of portable/mf_conv.c, whose store_block they share, on cores that have the extension.
 *
 * SMLAD / SMLABB / SMLATT through ACLE. They add the same int32 products as the portable loops,
 * grouped differently (int32 addition wraps identically in any order), and keep the order the
 * planner relies on: a (pixel, channel block) is fully read before any of its outputs is written.
 * Four output channels share one pass over the taps, their accumulators in registers; the last
 * (block size mod 4) channels, and depthwise layers whose channels do not map four to four
 * consecutive input channels, take scalar multiply-accumulates. */
#ifndef MF_CONV_DSP_H
#define MF_CONV_DSP_H

#include "mf_conv.h"
#include "mf_dot_dsp.h"

#if MF_USE_DSP

static inline int16x2_t dsp_pair(int32_t v) { /* v in both int16 halves */
    return (int16x2_t)((uint32_t)(uint16_t)v * 0x10001u);
}

/* Pointwise: the input pixel plus offset as int16, each group of four stored as channels
 * 0, 2, 1, 3 so that one 32-bit load pairs with __sxtb16 (channels 0, 2) and its odd twin. */
static void conv_pointwise_s8_dsp(const mf_conv_s8_params *p, const int8_t *input,
                                  int8_t *output) {
    int16_t row[MF_CONV_MAX_POINTWISE_IN_C];
    const int32_t pixels = p->out_h * p->out_w;
    const int32_t n4 = p->in_c & ~3;
    const int16x2_t off2 = dsp_pair(p->input_offset);
    int32_t px, ic, oc;
    for (px = 0; px < pixels; ++px) {
        const int8_t *x = input + (size_t)px * p->in_c;
        int8_t *out = output + (size_t)px * p->out_c;
        for (ic = 0; ic < n4; ic += 4) {
            const uint32_t xv = mf_dsp_load4(x + ic);
            const int16x2_t even = __sadd16(__sxtb16(xv), off2);
            const int16x2_t odd = __sadd16(mf_dsp_sxtb16_odd(xv), off2);
            memcpy(row + ic, &even, 4);
            memcpy(row + ic + 2, &odd, 4);
        }
        for (ic = n4; ic < p->in_c; ++ic) {
            row[ic] = (int16_t)(x[ic] + p->input_offset);
        }
        for (oc = 0; oc < p->out_c; oc += 2) {
            const int32_t pair = oc + 1 < p->out_c;
            const int8_t *w0 = p->weights + (size_t)oc * p->in_c;
            const int8_t *w1 = pair ? w0 + p->in_c : w0;
            int32_t a0 = p->bias[oc], a1 = 0, v;
            for (ic = 0; ic < n4; ic += 4) {
                int16x2_t even, odd;
                const uint32_t v0 = mf_dsp_load4(w0 + ic);
                const uint32_t v1 = mf_dsp_load4(w1 + ic);
                memcpy(&even, row + ic, 4);
                memcpy(&odd, row + ic + 2, 4);
                a0 = __smlad(even, __sxtb16(v0), a0);
                a0 = __smlad(odd, mf_dsp_sxtb16_odd(v0), a0);
                a1 = __smlad(even, __sxtb16(v1), a1);
                a1 = __smlad(odd, mf_dsp_sxtb16_odd(v1), a1);
            }
            for (ic = n4; ic < p->in_c; ++ic) {
                a0 += (int32_t)row[ic] * (int32_t)w0[ic];
                a1 += (int32_t)row[ic] * (int32_t)w1[ic];
            }
            v = mf_requantize(a0, p->multiplier[oc], p->left_shift[oc], p->right_shift[oc]);
            out[oc] = (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
            if (pair) {
                a1 += p->bias[oc + 1];
                v = mf_requantize(a1, p->multiplier[oc + 1], p->left_shift[oc + 1],
                                  p->right_shift[oc + 1]);
                out[oc + 1] = (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
            }
        }
    }
}

/* The taps of output pixel (iy0, ix0) that fall inside the image: ky in [ky0, ky1), kx in
 * [kx0, kx1) (input coordinates grow with the tap index, so each range is contiguous). */
typedef struct {
    int32_t ky0, ky1, kx0, kx1;
} dsp_taps;

static dsp_taps tap_range(const mf_conv_s8_params *p, int32_t iy0, int32_t ix0) {
    dsp_taps t;
    t.ky0 = 0;
    while (t.ky0 < p->k_h && iy0 + t.ky0 * p->dil_h < 0) {
        ++t.ky0;
    }
    t.ky1 = p->k_h;
    while (t.ky1 > t.ky0 && iy0 + (t.ky1 - 1) * p->dil_h >= p->in_h) {
        --t.ky1;
    }
    t.kx0 = 0;
    while (t.kx0 < p->k_w && ix0 + t.kx0 * p->dil_w < 0) {
        ++t.kx0;
    }
    t.kx1 = p->k_w;
    while (t.kx1 > t.kx0 && ix0 + (t.kx1 - 1) * p->dil_w >= p->in_w) {
        --t.kx1;
    }
    return t;
}

/* a[0..4) += (x + offset) * w over the taps, for output channels ch..ch+3.
 * Depthwise (per_tap_in_c == 0): one weight word per tap; x is the four channels' own inputs
 * (depth multiplier 1) or one input broadcast to all four (input depth 1). Conv: per tap, in_c
 * inputs each broadcast against a word of four channels' weights. */
static void dot4_dsp(const mf_conv_s8_params *p, const int8_t *input, int32_t iy0, int32_t ix0,
                     dsp_taps t, int32_t ch, int depthwise, int32_t *a) {
    const int16x2_t off2 = dsp_pair(p->input_offset);
    const int32_t x_step = p->dil_w * p->in_c;
    const size_t w_step = depthwise ? (size_t)p->out_c : (size_t)p->in_c * p->out_c;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    int32_t ky, kx, ic;
    for (ky = t.ky0; ky < t.ky1; ++ky) {
        const int8_t *x = input + ((size_t)(iy0 + ky * p->dil_h) * p->in_w + ix0 + t.kx0 * p->dil_w)
                                  * p->in_c;
        const int8_t *w = p->weights + ((size_t)ky * p->k_w + t.kx0) * w_step + ch;
        if (depthwise && p->depth_multiplier == 1) {
            x += ch;
            for (kx = t.kx0; kx < t.kx1; ++kx, x += x_step, w += w_step) {
                const uint32_t xv = mf_dsp_load4(x);
                const uint32_t wv = mf_dsp_load4(w);
                const int16x2_t even = __sadd16(__sxtb16(xv), off2);
                const int16x2_t odd = __sadd16(mf_dsp_sxtb16_odd(xv), off2);
                a0 = __smlabb(even, __sxtb16(wv), a0);
                a2 = __smlatt(even, __sxtb16(wv), a2);
                a1 = __smlabb(odd, mf_dsp_sxtb16_odd(wv), a1);
                a3 = __smlatt(odd, mf_dsp_sxtb16_odd(wv), a3);
            }
        } else if (depthwise) {
            for (kx = t.kx0; kx < t.kx1; ++kx, x += x_step, w += w_step) {
                const int16x2_t xx = dsp_pair((int32_t)x[0] + p->input_offset);
                const uint32_t wv = mf_dsp_load4(w);
                a0 = __smlabb(xx, __sxtb16(wv), a0);
                a2 = __smlatt(xx, __sxtb16(wv), a2);
                a1 = __smlabb(xx, mf_dsp_sxtb16_odd(wv), a1);
                a3 = __smlatt(xx, mf_dsp_sxtb16_odd(wv), a3);
            }
        } else {
            for (kx = t.kx0; kx < t.kx1; ++kx, x += x_step, w += w_step) {
                const int8_t *wr = w;
                for (ic = 0; ic < p->in_c; ++ic, wr += p->out_c) {
                    const int16x2_t xx = dsp_pair((int32_t)x[ic] + p->input_offset);
                    const uint32_t wv = mf_dsp_load4(wr);
                    a0 = __smlabb(xx, __sxtb16(wv), a0);
                    a2 = __smlatt(xx, __sxtb16(wv), a2);
                    a1 = __smlabb(xx, mf_dsp_sxtb16_odd(wv), a1);
                    a3 = __smlatt(xx, mf_dsp_sxtb16_odd(wv), a3);
                }
            }
        }
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

/* One output channel, any layout: the scalar fallback. */
static int32_t dot1(const mf_conv_s8_params *p, const int8_t *input, int32_t iy0, int32_t ix0,
                    dsp_taps t, int32_t ch, int depthwise, int32_t acc) {
    int32_t ky, kx, ic;
    for (ky = t.ky0; ky < t.ky1; ++ky) {
        for (kx = t.kx0; kx < t.kx1; ++kx) {
            const int8_t *x = input + ((size_t)(iy0 + ky * p->dil_h) * p->in_w + ix0 +
                                       kx * p->dil_w) * p->in_c;
            const size_t tap = (size_t)ky * p->k_w + kx;
            if (depthwise) {
                acc += ((int32_t)x[ch / p->depth_multiplier] + p->input_offset) *
                       (int32_t)p->weights[tap * p->out_c + ch];
            } else {
                for (ic = 0; ic < p->in_c; ++ic) {
                    acc += ((int32_t)x[ic] + p->input_offset) *
                           (int32_t)p->weights[(tap * p->in_c + ic) * p->out_c + ch];
                }
            }
        }
    }
    return acc;
}

/* Adds the in-image taps of output pixel (iy0, ix0) to acc[0..n) (channels c0..c0+n), which
 * holds the biases. */
static void block_dsp(const mf_conv_s8_params *p, const int8_t *input, int32_t iy0, int32_t ix0,
                      int32_t c0, int32_t n, int32_t *acc, int depthwise) {
    const dsp_taps t = tap_range(p, iy0, ix0);
    const int vector = !depthwise || p->depth_multiplier == 1 || p->in_c == 1;
    int32_t c = 0;
    if (t.ky0 == t.ky1 || t.kx0 == t.kx1) {
        return;
    }
    if (vector) {
        for (; c + 4 <= n; c += 4) {
            dot4_dsp(p, input, iy0, ix0, t, c0 + c, depthwise, acc + c);
        }
    }
    for (; c < n; ++c) {
        acc[c] = dot1(p, input, iy0, ix0, t, c0 + c, depthwise, acc[c]);
    }
}

/* The output pixel / channel block loops of both kernels around block_dsp. */
static void blocks_dsp(const mf_conv_s8_params *p, const int8_t *input, int8_t *output,
                       int depthwise) {
    int32_t acc[MF_CONV_BLOCK];
    int32_t oy, ox, c0, c;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * p->out_c;
            for (c0 = 0; c0 < p->out_c; c0 += MF_CONV_BLOCK) {
                const int32_t n = MF_MIN(MF_CONV_BLOCK, p->out_c - c0);
                for (c = 0; c < n; ++c) {
                    acc[c] = p->bias[c0 + c];
                }
                block_dsp(p, input, oy * p->stride_h - p->pad_top, ox * p->stride_w - p->pad_left,
                          c0, n, acc, depthwise);
                store_block(p, acc, c0, n, out + c0);
            }
        }
    }
}

#if !MF_USE_MVE /* from here on replaced by the Helium kernels of arm_mve/mf_conv_mve.h */
/* ---- CONV_2D as a matrix product (col != NULL): im2col + 2x2 output-by-channel blocking ----
 * Weights, laid out by the emitter (ops/conv.py dsp_weights) in the order this loop reads them:
 * per pair of output channels, for each whole group of four window positions k = (ky, kx, ic)
 * (TFLite's OHWI order), the first channel's four bytes then the second's, each stored as
 * 0, 2, 1, 3 so that __sxtb16 gives (w0, w1) and its ror-8 twin (w2, w3); then the two channels'
 * last (k mod 4) bytes. An odd last channel has its row alone.
 * The columns of two output pixels are interleaved the same way: per group of four positions,
 * four int16 of pixel 0 then four of pixel 1, x + input offset for in-image taps and 0 for
 * padding (which TFLM leaves out of the sum: the same integers). Two pixels share every weight
 * load and two channels every column load: eight SMLADs per group, sums and pointers in registers. */
/* Window positions k..k+n of one pixel's column from n consecutive input bytes (+ offset): single
 * positions up to a multiple of four, then four at a time (one word load, two SXTB16 / SADD16,
 * PKHBT / PKHTB back into the order (x0, x1), (x2, x3)), then single ones. */
static inline int32_t dsp_col_run(const int8_t *x, int32_t n, int32_t k, int16_t *col,
                                  int32_t offset, int16x2_t off2) {
    for (; n > 0 && (k & 3) != 0; --n, ++k) {
        col[2 * (k & ~3) + (k & 3)] = (int16_t)(*x++ + offset);
    }
    for (; n >= 4; n -= 4, k += 4, x += 4) {
        const uint32_t xv = mf_dsp_load4(x);
        const uint32_t e = (uint32_t)__sadd16(__sxtb16(xv), off2);
        const uint32_t o = (uint32_t)__sadd16(mf_dsp_sxtb16_odd(xv), off2);
        uint32_t lo, hi;
#if defined(__GNUC__)
        __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(lo) : "r"(e), "r"(o));
        __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(hi) : "r"(o), "r"(e));
#else
        lo = (e & 0xFFFFu) | (o << 16);
        hi = (e >> 16) | (o & 0xFFFF0000u);
#endif
        memcpy(col + 2 * k, &lo, 4);
        memcpy(col + 2 * k + 2, &hi, 4);
    }
    for (; n > 0; --n, ++k) {
        col[2 * (k & ~3) + (k & 3)] = (int16_t)(*x++ + offset);
    }
    return k;
}

/* Positions k..k+n as zeros (padding taps, which TFLM leaves out of the sum). */
static inline int32_t dsp_col_zero(int32_t n, int32_t k, int16_t *col) {
    for (; n > 0; --n, ++k) {
        col[2 * (k & ~3) + (k & 3)] = 0;
    }
    return k;
}

static void dsp_column(const mf_conv_s8_params *p, const int8_t *input, int32_t px, int16_t *col) {
    if (p->pointwise) { /* 1x1, stride 1, no padding: the input pixel itself */
        (void)dsp_col_run(input + (size_t)px * p->in_c, p->in_c, 0, col, p->input_offset,
                          dsp_pair(p->input_offset));
        return;
    }
    {
    const int32_t oy = px / p->out_w, ox = px - oy * p->out_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    const int32_t in_c = p->in_c, offset = p->input_offset, row = p->k_w * in_c;
    const int16x2_t off2 = dsp_pair(offset);
    const int whole_row = p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w;
    int32_t ky, kx, k = 0;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            k = dsp_col_zero(row, k, col);
        } else if (whole_row) { /* the window's row is one run of input bytes */
            k = dsp_col_run(input + ((size_t)iy * p->in_w + ix0) * in_c, row, k, col, offset, off2);
        } else {
            for (kx = 0; kx < p->k_w; ++kx) {
                const int32_t ix = ix0 + kx * p->dil_w;
                k = ix < 0 || ix >= p->in_w
                        ? dsp_col_zero(in_c, k, col)
                        : dsp_col_run(input + ((size_t)iy * p->in_w + ix) * in_c, in_c, k, col, offset,
                                      off2);
            }
        }
    }
    }
}

static inline int8_t dsp_out(const mf_conv_s8_params *p, int32_t acc, int32_t c) {
    const int32_t v = mf_requantize(acc, p->multiplier[c], p->left_shift[c], p->right_shift[c]);
    return (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
}

/* The output stage with its per-layer values held in registers (copied once: stores through
 * int8_t pointers would otherwise make the compiler reload them from the struct after each). */
typedef struct {
    const int32_t *mult, *left, *right;
    int32_t offset, lo, hi;
} dsp_stage;

static inline dsp_stage dsp_stage_of(const mf_conv_s8_params *p) {
    dsp_stage q;
    q.mult = p->multiplier;
    q.left = p->left_shift;
    q.right = p->right_shift;
    q.offset = p->output_offset;
    q.lo = p->act_min;
    q.hi = p->act_max;
    return q;
}

static inline int32_t dsp_rq(const dsp_stage *q, int32_t acc, int32_t c) {
    return mf_clamp(mf_requantize(acc, q->mult[c], q->left[c], q->right[c]) + q->offset, q->lo, q->hi);
}

/* Channels c..c+3 of one pixel from four sums in registers: all four computed, then stored. */
static inline void dsp_store4(const dsp_stage *q, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                              int32_t c, int8_t *out) {
    const int32_t v0 = dsp_rq(q, a0, c), v1 = dsp_rq(q, a1, c + 1);
    const int32_t v2 = dsp_rq(q, a2, c + 2), v3 = dsp_rq(q, a3, c + 3);
    out[0] = (int8_t)v0;
    out[1] = (int8_t)v1;
    out[2] = (int8_t)v2;
    out[3] = (int8_t)v3;
}

/* acc[0..4) = (pixel 0, channel 0), (pixel 1, channel 0), (pixel 0, channel 1), (pixel 1, channel 1)
 * plus the sums over the groups of w (two rows interleaved, or one row when single) and col. */
static void dsp_dot_2x2(const int8_t *w, const int16_t *col, int32_t groups, int32_t tail,
                        int single, int32_t *acc) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    const int16_t *const end = col + 8 * groups;
    int32_t i;
    if (single) {
        for (; col != end; col += 8, w += 4) {
            int16x2_t x;
            const uint32_t v = mf_dsp_load4(w);
            const int16x2_t ea = __sxtb16(v), eb = mf_dsp_sxtb16_odd(v);
            memcpy(&x, col, 4);
            a00 = __smlad(x, ea, a00);
            memcpy(&x, col + 4, 4);
            a01 = __smlad(x, ea, a01);
            memcpy(&x, col + 2, 4);
            a00 = __smlad(x, eb, a00);
            memcpy(&x, col + 6, 4);
            a01 = __smlad(x, eb, a01);
        }
        for (i = 0; i < tail; ++i) {
            a00 += (int32_t)col[i] * w[i];
            a01 += (int32_t)col[4 + i] * w[i];
        }
    } else {
#if defined(__GNUC__)
        /* one group in 18 instructions: gcc's own schedule of the C below spills the sums */
        for (; col != end;) {
            uint32_t v0, v1, e0, e1, x;
            __asm__("ldr %[v0], [%[w]], #4\n\t"
                    "ldr %[v1], [%[w]], #4\n\t"
                    "sxtb16 %[e0], %[v0]\n\t"
                    "sxtb16 %[e1], %[v1]\n\t"
                    "ldr %[x], [%[c]], #8\n\t"
                    "smlad %[a00], %[x], %[e0], %[a00]\n\t"
                    "smlad %[a10], %[x], %[e1], %[a10]\n\t"
                    "ldr %[x], [%[c]], #-4\n\t"
                    "smlad %[a01], %[x], %[e0], %[a01]\n\t"
                    "smlad %[a11], %[x], %[e1], %[a11]\n\t"
                    "sxtb16 %[e0], %[v0], ror #8\n\t"
                    "sxtb16 %[e1], %[v1], ror #8\n\t"
                    "ldr %[x], [%[c]], #8\n\t"
                    "smlad %[a00], %[x], %[e0], %[a00]\n\t"
                    "smlad %[a10], %[x], %[e1], %[a10]\n\t"
                    "ldr %[x], [%[c]], #4\n\t"
                    "smlad %[a01], %[x], %[e0], %[a01]\n\t"
                    "smlad %[a11], %[x], %[e1], %[a11]"
                    : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11),
                      [w] "+r"(w), [c] "+r"(col), [v0] "=&r"(v0), [v1] "=&r"(v1), [e0] "=&r"(e0),
                      [e1] "=&r"(e1), [x] "=&r"(x)
                    :
                    : "memory");
        }
#else
        for (; col != end; col += 8, w += 8) {
            int16x2_t x;
            const uint32_t v0 = mf_dsp_load4(w), v1 = mf_dsp_load4(w + 4);
            int16x2_t e0 = __sxtb16(v0), e1 = __sxtb16(v1);
            memcpy(&x, col, 4);
            a00 = __smlad(x, e0, a00);
            a10 = __smlad(x, e1, a10);
            memcpy(&x, col + 4, 4);
            a01 = __smlad(x, e0, a01);
            a11 = __smlad(x, e1, a11);
            e0 = mf_dsp_sxtb16_odd(v0);
            e1 = mf_dsp_sxtb16_odd(v1);
            memcpy(&x, col + 2, 4);
            a00 = __smlad(x, e0, a00);
            a10 = __smlad(x, e1, a10);
            memcpy(&x, col + 6, 4);
            a01 = __smlad(x, e0, a01);
            a11 = __smlad(x, e1, a11);
        }
#endif
        for (i = 0; i < tail; ++i) {
            a00 += (int32_t)col[i] * w[i];
            a01 += (int32_t)col[4 + i] * w[i];
            a10 += (int32_t)col[i] * w[tail + i];
            a11 += (int32_t)col[4 + i] * w[tail + i];
        }
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* out0 / out1 = the two pixels' outputs from the interleaved columns (out1 NULL: one pixel). */
static void dsp_matmul_2x2(const mf_conv_s8_params *p, int32_t k, const int16_t *col, int8_t *out0,
                           int8_t *out1) {
    const int32_t groups = k >> 2, tail = k & 3;
    const int8_t *w = p->weights;
    const dsp_stage q = dsp_stage_of(p);
    int32_t oc;
    for (oc = 0; oc < p->out_c; oc += 2) {
        const int single = oc + 1 == p->out_c;
        int32_t acc[4];
        acc[0] = acc[1] = p->bias[oc];
        acc[2] = acc[3] = single ? 0 : p->bias[oc + 1];
        dsp_dot_2x2(w, col, groups, tail, single, acc);
        w += single ? k : 2 * k;
        if (!single && out1 != NULL) { /* all four computed before any store */
            const int32_t v00 = dsp_rq(&q, acc[0], oc), v10 = dsp_rq(&q, acc[1], oc);
            const int32_t v01 = dsp_rq(&q, acc[2], oc + 1), v11 = dsp_rq(&q, acc[3], oc + 1);
            out0[oc] = (int8_t)v00;
            out0[oc + 1] = (int8_t)v01;
            out1[oc] = (int8_t)v10;
            out1[oc + 1] = (int8_t)v11;
            continue;
        }
        out0[oc] = (int8_t)dsp_rq(&q, acc[0], oc);
        if (out1 != NULL) {
            out1[oc] = (int8_t)dsp_rq(&q, acc[1], oc);
        }
        if (!single) {
            out0[oc + 1] = (int8_t)dsp_rq(&q, acc[2], oc + 1);
        }
    }
}

/* dsp_column for one input channel (a byte per tap: person_detect's and micro_speech's first
 * layers), inlined into the pixel loop: position k goes to col[k + (k & ~3)]; rows of at least
 * four taps as runs of input bytes (dsp_col_run), shorter ones byte by byte. */
static inline void dsp_column_1ch(const mf_conv_s8_params *p, const int8_t *input, int32_t oy,
                                  int32_t ox, int16_t *col) {
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    const int32_t offset = p->input_offset, k_w = p->k_w, dil_w = p->dil_w;
    const int8_t *x = input + (size_t)iy0 * p->in_w + ix0;
    const size_t step = (size_t)p->dil_h * p->in_w;
    int32_t ky, kx, k = 0;
    if (iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h && ix0 >= 0 &&
        ix0 + (k_w - 1) * dil_w < p->in_w) { /* the whole window in the image */
        if (k_w >= 4 && dil_w == 1) { /* rows long enough for word loads (micro_speech's 8) */
            const int16x2_t off2 = dsp_pair(offset);
            for (ky = 0; ky < p->k_h; ++ky, x += step) {
                k = dsp_col_run(x, k_w, k, col, offset, off2);
            }
            return;
        }
        for (ky = 0; ky < p->k_h; ++ky, x += step) {
            for (kx = 0; kx < k_w; ++kx, ++k) {
                col[k + (k & ~3)] = (int16_t)(x[kx * dil_w] + offset);
            }
        }
        return;
    }
    for (ky = 0; ky < p->k_h; ++ky, x += step) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < k_w; ++kx, ++k) {
            const int32_t ix = ix0 + kx * dil_w;
            const int in = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            col[k + (k & ~3)] = (int16_t)(in ? x[kx * dil_w] + offset : 0);
        }
    }
}

/* Pixel pairs: both windows are copied to the columns before either pixel's outputs are written
 * (the in-place plan of backends/c/ops/conv.py allows for this order as well). */
static void conv_matmul_dsp(const mf_conv_s8_params *p, const int8_t *input, int8_t *output,
                            int16_t *col) {
    const int32_t k = p->k_h * p->k_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    int32_t px, oy = 0, ox = 0;
    for (px = 0; px < pixels; px += 2) {
        const int32_t two = px + 1 < pixels;
        int8_t *out = output + (size_t)px * p->out_c;
        if (p->in_c == 1) {
            const int32_t oy1 = ox + 1 < p->out_w ? oy : oy + 1, ox1 = ox + 1 < p->out_w ? ox + 1 : 0;
            dsp_column_1ch(p, input, oy, ox, col);
            dsp_column_1ch(p, input, two ? oy1 : oy, two ? ox1 : ox, col + 4);
            oy = ox1 + 1 < p->out_w ? oy1 : oy1 + 1;
            ox = ox1 + 1 < p->out_w ? ox1 + 1 : 0;
        } else {
            dsp_column(p, input, px, col);
            dsp_column(p, input, two ? px + 1 : px, col + 4);
        }
        dsp_matmul_2x2(p, k, col, out, two ? out + p->out_c : NULL);
    }
}

void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output, int16_t *col) {
    if (col != NULL) {
        conv_matmul_dsp(p, input, output, col);
    } else if (p->pointwise) {
        conv_pointwise_s8_dsp(p, input, output);
    } else {
        blocks_dsp(p, input, output, 0);
    }
}

/* ---- DEPTHWISE_CONV_2D, depth multiplier 1: four channels per pass, sums in registers ----
 * The emitter (ops/conv.py dsp_depthwise) lays the weights out per group of four channels, tap
 * after tap (4 bytes per tap, so one LDR and two SXTB16 give the even and odd channel pairs),
 * then the last (in_c mod 4) channels tap after tap; and folds the input offset into the bias:
 * bias + offset * (sum of the channel's weights over every tap). The sum over the window is then
 * x * w over the in-image taps plus zero_point * w over the padding taps, since
 * (zero_point + offset) * w = 0: the same integers as TFLM's sum of (x + offset) * w over the
 * in-image taps. Whole windows (most pixels) take the loop without per-tap tests. */
/* a[0..4) += x * w over n taps of four channels: x advances x_step bytes per tap (0 for the
 * zero-point word of padding taps), w four bytes. */
static inline void dw_taps_dsp(const int8_t *x, int32_t x_step, const int8_t *w, int32_t n,
                               int32_t *a) {
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    const int8_t *const end = w + 4 * n;
    while (w != end) {
#if defined(__GNUC__)
        uint32_t xv, wv, xo, wo; /* one tap in 11 instructions, the sums kept in registers */
        __asm__("ldr %[xv], [%[x]]\n\t"
                "ldr %[wv], [%[w]], #4\n\t"
                "add %[x], %[x], %[xs]\n\t"
                "sxtb16 %[xo], %[xv], ror #8\n\t"
                "sxtb16 %[wo], %[wv], ror #8\n\t"
                "sxtb16 %[xv], %[xv]\n\t"
                "sxtb16 %[wv], %[wv]\n\t"
                "smlabb %[a0], %[xv], %[wv], %[a0]\n\t"
                "smlatt %[a2], %[xv], %[wv], %[a2]\n\t"
                "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"
                "smlatt %[a3], %[xo], %[wo], %[a3]"
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x),
                  [w] "+r"(w), [xv] "=&r"(xv), [wv] "=&r"(wv), [xo] "=&r"(xo), [wo] "=&r"(wo)
                : [xs] "r"(x_step)
                : "memory");
#else
        const uint32_t xv = mf_dsp_load4(x), wv = mf_dsp_load4(w);
        const int16x2_t xe = __sxtb16(xv), we = __sxtb16(wv);
        const int16x2_t xo = mf_dsp_sxtb16_odd(xv), wo = mf_dsp_sxtb16_odd(wv);
        a0 = __smlabb(xe, we, a0);
        a2 = __smlatt(xe, we, a2);
        a1 = __smlabb(xo, wo, a1);
        a3 = __smlatt(xo, wo, a3);
        x += x_step;
        w += 4;
#endif
    }
    a[0] = a0;
    a[1] = a1;
    a[2] = a2;
    a[3] = a3;
}

#if defined(__GNUC__)
/* One tap of four channels: x at [xp, #off] or [xp, off register], w at [w], w += 4. */
#define MF_DW_TAP(XADDR)                                                                          \
    "ldr %[xv], " XADDR "\n\t"                                                                    \
    "ldr %[wv], [%[w]], #4\n\t"                                                                   \
    "sxtb16 %[xo], %[xv], ror #8\n\t"                                                             \
    "sxtb16 %[wo], %[wv], ror #8\n\t"                                                             \
    "sxtb16 %[xv], %[xv]\n\t"                                                                     \
    "sxtb16 %[wv], %[wv]\n\t"                                                                     \
    "smlabb %[a0], %[xv], %[wv], %[a0]\n\t"                                                       \
    "smlatt %[a2], %[xv], %[wv], %[a2]\n\t"                                                       \
    "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                                                       \
    "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#endif

/* A whole window (every tap in the image) of four channels: rows of three taps in 31
 * instructions of inline asm, other widths through dw_taps_dsp. */
static inline void dw_whole_dsp(const int8_t *x, int32_t row_step, int32_t col_step,
                                const int8_t *w, int32_t k_h, int32_t k_w, int32_t *a) {
    int32_t ky;
#if defined(__GNUC__)
    if (k_w == 3 && k_h == 3) { /* the whole 3x3 window in one block of 94 instructions */
        int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
        uint32_t xv, wv, xo, wo;
        const int8_t *x2;
        __asm__(MF_DW_TAP("[%[x]]") MF_DW_TAP("[%[x], %[cs]]")
                "add %[x2], %[x], %[cs], lsl #1\n\t"
                MF_DW_TAP("[%[x2]]")
                "add %[x], %[x], %[rs]\n\t"
                MF_DW_TAP("[%[x]]") MF_DW_TAP("[%[x], %[cs]]")
                "add %[x2], %[x], %[cs], lsl #1\n\t"
                MF_DW_TAP("[%[x2]]")
                "add %[x], %[x], %[rs]\n\t"
                MF_DW_TAP("[%[x]]") MF_DW_TAP("[%[x], %[cs]]")
                "add %[x2], %[x], %[cs], lsl #1\n\t"
                MF_DW_TAP("[%[x2]]")
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w),
                  [x] "+r"(x), [xv] "=&r"(xv), [wv] "=&r"(wv), [xo] "=&r"(xo), [wo] "=&r"(wo),
                  [x2] "=&r"(x2)
                : [cs] "r"(col_step), [rs] "r"(row_step)
                : "memory");
        a[0] = a0;
        a[1] = a1;
        a[2] = a2;
        a[3] = a3;
        return;
    }
    if (k_w == 3) {
        int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
        for (ky = 0; ky < k_h; ++ky, x += row_step) {
            uint32_t xv, wv, xo, wo;
            const int8_t *x2;
            __asm__(MF_DW_TAP("[%[x]]") MF_DW_TAP("[%[x], %[cs]]")
                    "add %[x2], %[x], %[cs], lsl #1\n\t"
                    MF_DW_TAP("[%[x2]]")
                    : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w),
                      [xv] "=&r"(xv), [wv] "=&r"(wv), [xo] "=&r"(xo), [wo] "=&r"(wo),
                      [x2] "=&r"(x2)
                    : [x] "r"(x), [cs] "r"(col_step)
                    : "memory");
        }
        a[0] = a0;
        a[1] = a1;
        a[2] = a2;
        a[3] = a3;
        return;
    }
#endif
    for (ky = 0; ky < k_h; ++ky, x += row_step, w += 4 * k_w) {
        dw_taps_dsp(x, col_step, w, k_w, a);
    }
}

/* Largest window (k_h * k_w) whose edge pixels gather their taps into a word buffer (on the
 * stack: 2 x 64 bytes; larger windows take dw_group_dsp). */
#define MF_DW_MAX_TAPS 16

/* Per tap of output pixel (iy0, ix0): the byte offset of its input pixel, or -1 for padding. */
static void dw_tap_offsets(const mf_conv_s8_params *p, int32_t iy0, int32_t ix0, int32_t *off) {
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            *off++ = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w ? (iy * p->in_w + ix) * p->in_c
                                                                        : -1;
        }
    }
}

/* A window that leaves the image, channels c..c+3: its taps' input words gathered (the zero-point
 * word for padding taps), then one pass of dw_taps_dsp over them. */
static void dw_edge_dsp(const int8_t *input, const int32_t *off, int32_t taps, int32_t c,
                        const int8_t *w, uint32_t zp4, int32_t *a) {
    uint32_t win[MF_DW_MAX_TAPS];
    int32_t t;
    for (t = 0; t < taps; ++t) {
        win[t] = off[t] >= 0 ? mf_dsp_load4(input + off[t] + c) : zp4;
    }
    dw_taps_dsp((const int8_t *)win, 4, w, taps, a);
}

/* The same for windows of more than MF_DW_MAX_TAPS taps: whole rows of in-image taps from the
 * input, padding taps from the zero-point word. */
static void dw_group_dsp(const mf_conv_s8_params *p, const int8_t *input, int32_t iy0, int32_t ix0,
                         dsp_taps t, int32_t c, const int8_t *w, const uint32_t *zp4, int32_t *a) {
    const int32_t col_step = p->dil_w * p->in_c;
    const int8_t *const zp = (const int8_t *)zp4;
    int32_t ky;
    for (ky = 0; ky < p->k_h; ++ky, w += 4 * p->k_w) {
        if (ky < t.ky0 || ky >= t.ky1 || t.kx0 == t.kx1) {
            dw_taps_dsp(zp, 0, w, p->k_w, a);
            continue;
        }
        dw_taps_dsp(zp, 0, w, t.kx0, a);
        dw_taps_dsp(input + ((size_t)(iy0 + ky * p->dil_h) * p->in_w + ix0 + t.kx0 * p->dil_w) * p->in_c
                    + c, col_step, w + 4 * t.kx0, t.kx1 - t.kx0, a);
        dw_taps_dsp(zp, 0, w + 4 * t.kx1, p->k_w - t.kx1, a);
    }
}

/* One of the last (in_c mod 4) channels, its weights tap after tap. */
static int32_t dw_tail_dsp(const mf_conv_s8_params *p, const int8_t *input, int32_t iy0, int32_t ix0,
                           int32_t c, const int8_t *w, int32_t acc) {
    const int32_t zp = -p->input_offset;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx, ++w) {
            const int32_t ix = ix0 + kx * p->dil_w;
            const int inside = iy >= 0 && iy < p->in_h && ix >= 0 && ix < p->in_w;
            acc += (inside ? (int32_t)input[((size_t)iy * p->in_w + ix) * p->in_c + c] : zp) * w[0];
        }
    }
    return acc;
}

static void dw_m1_dsp(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    const dsp_stage q = dsp_stage_of(p);
    const int32_t ch = p->in_c, taps = p->k_h * p->k_w, n4 = ch & ~3;
    const int32_t row_step = p->dil_h * p->in_w * ch, col_step = p->dil_w * ch;
    const uint32_t zp4 = (uint32_t)(uint8_t)(-p->input_offset) * 0x01010101u;
    const int hold = mf_conv_overlap(input, (size_t)p->in_h * p->in_w * ch, output,
                                     (size_t)p->out_h * p->out_w * ch);
    int32_t oy, ox, c;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int rows_in = iy0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const int whole = rows_in && ix0 >= 0 && ix0 + (p->k_w - 1) * p->dil_w < p->in_w;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * ch;
            const int8_t *w = p->weights;
            const int gather = !whole && taps <= MF_DW_MAX_TAPS;
            int32_t off[MF_DW_MAX_TAPS];
            dsp_taps t = {0, 0, 0, 0};
            if (gather) {
                dw_tap_offsets(p, iy0, ix0, off);
            } else if (!whole) {
                t = tap_range(p, iy0, ix0);
            }
            int8_t blk[MF_CONV_BLOCK]; /* a block's outputs, stored once it is all read */
            for (c = 0; c < n4; c += 4, w += 4 * taps) {
                int32_t a[4];
                memcpy(a, p->bias + c, sizeof a);
                if (whole) {
                    dw_whole_dsp(input + ((size_t)iy0 * p->in_w + ix0) * ch + c, row_step, col_step,
                                 w, p->k_h, p->k_w, a);
                } else if (gather) {
                    dw_edge_dsp(input, off, taps, c, w, zp4, a);
                } else {
                    dw_group_dsp(p, input, iy0, ix0, t, c, w, &zp4, a);
                }
                if (!hold) {
                    dsp_store4(&q, a[0], a[1], a[2], a[3], c, out + c);
                    continue;
                }
                dsp_store4(&q, a[0], a[1], a[2], a[3], c, blk + (c & (MF_CONV_BLOCK - 1)));
                if (((c + 4) & (MF_CONV_BLOCK - 1)) == 0) {
                    memcpy(out + c + 4 - MF_CONV_BLOCK, blk, MF_CONV_BLOCK);
                }
            }
            for (; c < ch; ++c, w += taps) {
                const int8_t v = dsp_out(p, dw_tail_dsp(p, input, iy0, ix0, c, w, p->bias[c]), c);
                *(hold ? blk + (c & (MF_CONV_BLOCK - 1)) : out + c) = v;
            }
            if (hold && (ch & (MF_CONV_BLOCK - 1))) {
                memcpy(out + (ch & ~(MF_CONV_BLOCK - 1)), blk, (size_t)(ch & (MF_CONV_BLOCK - 1)));
            }
        }
    }
}

void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    if (p->depth_multiplier == 1) {
        dw_m1_dsp(p, input, output);
    } else {
        blocks_dsp(p, input, output, 1);
    }
}
#endif
#endif

#endif
