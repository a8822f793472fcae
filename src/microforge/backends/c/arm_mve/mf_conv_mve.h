/* CONV_2D / DEPTHWISE_CONV_2D int8 kernels with Helium (MVE, arm_mve/): included at the end of
 * portable/mf_conv.c after the DSP variants, whose static helpers serve the cases left to them.
 *
 * CONV_2D whose window fits MF_CONV_MAX_COL (col != NULL) is a matrix product: the window of one
 * output pixel is copied as int8 into the scratch (the zero point for padding taps), then four
 * output channels at a time take VMLADAVA dot products of sixteen bytes against their weight rows
 * (TFLite's OHWI order, laid out so by the emitter), and the four sums are requantized as one
 * vector. The emitter folds the input offset into the bias (bias + offset * sum of the row), so
 * a padding tap adds (zero_point + offset) * w = 0, as TFLM leaves it out; 1x1 pixels are copied
 * too, so the pixel is read whole before any output of it is written (the in-place plan).
 * DEPTHWISE_CONV_2D with depth multiplier 1: sixteen channels per pass as four int32x4 sums,
 * x * w per tap (VMUL, VADD), padding taps the zero point, the offset folded into the bias the same
 * way; other depth multipliers take the DSP loops. Integer sums are exact: the same bits as the
 * portable C. */
#ifndef MF_CONV_MVE_H
#define MF_CONV_MVE_H

#include "mf_conv.h"
#include "mf_dot_mve.h"

#if MF_USE_MVE

static inline void conv_store4_mve(const mf_conv_s8_params *p, int32x4_t acc, int32_t c,
                                   int8_t *out, int32_t n) {
    mf_mve_store4(acc, p->multiplier + c, p->left_shift + c, p->right_shift + c, p->output_offset,
                  p->act_min, p->act_max, out, n);
}

/* The window of output pixel px as k int8 (zero point for padding taps). */
static void conv_column_mve(const mf_conv_s8_params *p, const int8_t *input, int32_t px,
                            int8_t *col) {
    const int32_t oy = px / p->out_w, ox = px - oy * p->out_w;
    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
    const int8_t zp = (int8_t)(-p->input_offset);
    const int32_t c = p->in_c;
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            mf_mve_fill(col, zp, p->k_w * c);
            col += p->k_w * c;
            continue;
        }
        if (p->dil_w == 1 && ix0 >= 0 && ix0 + p->k_w <= p->in_w) { /* one contiguous run */
            mf_mve_copy(col, input + ((size_t)iy * p->in_w + ix0) * c, p->k_w * c);
            col += p->k_w * c;
            continue;
        }
        for (kx = 0; kx < p->k_w; ++kx, col += c) {
            const int32_t ix = ix0 + kx * p->dil_w;
            if (ix < 0 || ix >= p->in_w) {
                mf_mve_fill(col, zp, c);
            } else {
                mf_mve_copy(col, input + ((size_t)iy * p->in_w + ix) * c, c);
            }
        }
    }
}

static void conv_matmul_mve(const mf_conv_s8_params *p, const int8_t *input, int8_t *output,
                            int8_t *col) {
    const int32_t k = p->k_h * p->k_w * p->in_c;
    const int32_t pixels = p->out_h * p->out_w;
    int32_t px, oc;
    for (px = 0; px < pixels; ++px) {
        int8_t *out = output + (size_t)px * p->out_c;
        conv_column_mve(p, input, px, col);
        for (oc = 0; oc < p->out_c; oc += 4) {
            const int32_t n = MF_MIN(4, p->out_c - oc);
            int32_t a[4] = {0, 0, 0, 0};
            int32x4_t acc;
            if (n == 4) {
                memcpy(a, p->bias + oc, sizeof a);
                mf_mve_dot4(col, p->weights + (size_t)oc * k, k, k, a);
            } else { /* the last one to three channels: one row at a time */
                int32_t j;
                for (j = 0; j < n; ++j) {
                    int32_t b[4] = {p->bias[oc + j], 0, 0, 0};
                    mf_mve_dot4(col, p->weights + (size_t)(oc + j) * k, 0, k, b);
                    a[j] = b[0];
                }
            }
            acc = vldrwq_s32(a);
            conv_store4_mve(p, acc, oc, out + oc, n);
        }
    }
}

void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output, int16_t *col) {
    if (col != NULL) {
        conv_matmul_mve(p, input, output, (int8_t *)col);
    } else if (p->pointwise) {
        conv_pointwise_s8_dsp(p, input, output);
    } else {
        blocks_dsp(p, input, output, 0);
    }
}

/* Depth multiplier 1: weights [k_h][k_w][C] (the portable layout), bias with the offset folded.
 * Eight channels per vector as int16 (x and w sign-extended by the load, x * w exact in int16),
 * VMULLB / VMULLT widen the products of the even and odd channels to int32 and add them to two
 * int32x4 sums; a pass takes sixteen channels (four sums) over the window, padding taps adding
 * zero_point * w. The even / odd sums are requantized with their channels' parameters (gathered
 * loads), narrowed back into channel order (VMOVNB / VMOVNT) and stored as bytes. */
typedef struct {
    int32x4_t e, o; /* channels c, c+2, c+4, c+6 and c+1, c+3, c+5, c+7 */
} dw8_mve;

static inline dw8_mve dw8_tap_mve(dw8_mve a, int16x8_t x, int16x8_t w) {
    a.e = vaddq_s32(a.e, vmullbq_int_s16(x, w));
    a.o = vaddq_s32(a.o, vmulltq_int_s16(x, w));
    return a;
}

static inline dw8_mve dw8_bias_mve(const int32_t *bias, int32_t n) {
    const uint32x4_t even = vidupq_n_u32(0, 2), odd = vidupq_n_u32(1, 2);
    dw8_mve a;
    a.e = vldrwq_gather_shifted_offset_z_s32(bias, even, vctp32q((uint32_t)(n + 1) / 2));
    a.o = vldrwq_gather_shifted_offset_z_s32(bias, odd, vctp32q((uint32_t)n / 2));
    return a;
}

static inline int32x4_t dw_requant_mve(const mf_conv_s8_params *p, int32x4_t acc, int32_t c,
                                       uint32x4_t lanes, mve_pred16_t q) {
    const int32x4_t v = mf_mve_requantize(
        acc, vldrwq_gather_shifted_offset_z_s32(p->multiplier + c, lanes, q),
        vldrwq_gather_shifted_offset_z_s32(p->left_shift + c, lanes, q),
        vnegq_s32(vldrwq_gather_shifted_offset_z_s32(p->right_shift + c, lanes, q)));
    return vminq_s32(vmaxq_s32(vaddq_n_s32(v, p->output_offset), vdupq_n_s32(p->act_min)),
                     vdupq_n_s32(p->act_max));
}

/* Channels c..c+n (n <= 8) of one output pixel from their sums. */
static inline void dw8_store_mve(const mf_conv_s8_params *p, dw8_mve a, int32_t c, int32_t n,
                                 int8_t *out) {
    const int32x4_t e = dw_requant_mve(p, a.e, c, vidupq_n_u32(0, 2), vctp32q((uint32_t)(n + 1) / 2));
    const int32x4_t o = dw_requant_mve(p, a.o, c, vidupq_n_u32(1, 2), vctp32q((uint32_t)n / 2));
    int16x8_t v = vmovnbq_s32(vdupq_n_s16(0), e);
    v = vmovntq_s32(v, o);
    vstrbq_p_s16(out, v, vctp16q((uint32_t)n));
}

/* Sixteen channels (or the last n < 16, predicated) of output pixel (iy0, ix0) with taps t in the
 * image. */
static void dw16_mve(const mf_conv_s8_params *p, const int8_t *input, int32_t iy0, int32_t ix0,
                     dsp_taps t, int32_t c, int32_t n, int8_t *dst) {
    const int32_t ch = p->in_c;
    const int16x8_t zp = vdupq_n_s16((int16_t)-p->input_offset);
    const mve_pred16_t q0 = vctp16q((uint32_t)n), q1 = vctp16q((uint32_t)MF_MAX(n - 8, 0));
    const int32_t col_step = p->dil_w * ch;
    const int8_t *w = p->weights + c;
    dw8_mve a0 = dw8_bias_mve(p->bias + c, MF_MIN(n, 8));
    dw8_mve a1 = dw8_bias_mve(p->bias + c + 8, MF_MAX(n - 8, 0));
    int32_t ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int row_in = ky >= t.ky0 && ky < t.ky1;
        const int8_t *x = input + ((size_t)(iy0 + ky * p->dil_h) * p->in_w + ix0) * ch + c;
        for (kx = 0; kx < p->k_w; ++kx, w += ch, x += col_step) {
            const int16x8_t w0 = vldrbq_z_s16(w, q0), w1 = vldrbq_z_s16(w + 8, q1);
            if (row_in && kx >= t.kx0 && kx < t.kx1) {
                a0 = dw8_tap_mve(a0, vldrbq_z_s16(x, q0), w0);
                a1 = dw8_tap_mve(a1, vldrbq_z_s16(x + 8, q1), w1);
            } else {
                a0 = dw8_tap_mve(a0, zp, w0);
                a1 = dw8_tap_mve(a1, zp, w1);
            }
        }
    }
    dw8_store_mve(p, a0, c, MF_MIN(n, 8), dst);
    if (n > 8) {
        dw8_store_mve(p, a1, c + 8, n - 8, dst + 8);
    }
}

/* Sixteen whole channels of a window inside the image: no tests, no predicates. */
static void dw16_whole_mve(const mf_conv_s8_params *p, const int8_t *x, int32_t c, int8_t *dst) {
    const int32_t ch = p->in_c, col_step = p->dil_w * ch, row_step = p->dil_h * p->in_w * ch;
    const int8_t *w = p->weights + c;
    dw8_mve a0 = dw8_bias_mve(p->bias + c, 8), a1 = dw8_bias_mve(p->bias + c + 8, 8);
    int32_t ky, kx;
    x += c;
    for (ky = 0; ky < p->k_h; ++ky, x += row_step) {
        const int8_t *xr = x;
        for (kx = 0; kx < p->k_w; ++kx, w += ch, xr += col_step) {
#if defined(__GNUC__)
            int16x8_t xv, wv; /* one tap in 12 instructions, seven vector registers; the widening loads need r0-r7 bases */
            int32x4_t t;
            __asm__("vldrb.s16 %q[x], [%[xr]]\n\t"
                    "vldrb.s16 %q[w], [%[wp]]\n\t"
                    "vmullb.s16 %q[t], %q[x], %q[w]\n\t"
                    "vadd.i32 %q[e0], %q[e0], %q[t]\n\t"
                    "vmullt.s16 %q[t], %q[x], %q[w]\n\t"
                    "vadd.i32 %q[o0], %q[o0], %q[t]\n\t"
                    "vldrb.s16 %q[x], [%[xr], #8]\n\t"
                    "vldrb.s16 %q[w], [%[wp], #8]\n\t"
                    "vmullb.s16 %q[t], %q[x], %q[w]\n\t"
                    "vadd.i32 %q[e1], %q[e1], %q[t]\n\t"
                    "vmullt.s16 %q[t], %q[x], %q[w]\n\t"
                    "vadd.i32 %q[o1], %q[o1], %q[t]"
                    : [e0] "+w"(a0.e), [o0] "+w"(a0.o), [e1] "+w"(a1.e), [o1] "+w"(a1.o),
                      [x] "=&w"(xv), [w] "=&w"(wv), [t] "=&w"(t)
                    : [xr] "l"(xr), [wp] "l"(w), "m"(*(const int8_t(*)[16])xr),
                      "m"(*(const int8_t(*)[16])w));
#else
            a0 = dw8_tap_mve(a0, vldrbq_s16(xr), vldrbq_s16(w));
            a1 = dw8_tap_mve(a1, vldrbq_s16(xr + 8), vldrbq_s16(w + 8));
#endif
        }
    }
    dw8_store_mve(p, a0, c, 8, dst);
    dw8_store_mve(p, a1, c + 8, 8, dst + 8);
}

/* Eight whole channels of a window inside the image (the layers with 8 or 24 ... channels). */
static void dw8_whole_mve(const mf_conv_s8_params *p, const int8_t *x, int32_t c, int8_t *dst) {
    const int32_t ch = p->in_c, col_step = p->dil_w * ch, row_step = p->dil_h * p->in_w * ch;
    const int8_t *w = p->weights + c;
    dw8_mve a = dw8_bias_mve(p->bias + c, 8);
    int32_t ky, kx;
    x += c;
    for (ky = 0; ky < p->k_h; ++ky, x += row_step) {
        const int8_t *xr = x;
        for (kx = 0; kx < p->k_w; ++kx, w += ch, xr += col_step) {
            a = dw8_tap_mve(a, vldrbq_s16(xr), vldrbq_s16(w));
        }
    }
    dw8_store_mve(p, a, c, 8, dst);
}

static void dw_m1_mve(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    const int32_t ch = p->in_c;
    const int hold = mf_conv_overlap(input, (size_t)p->in_h * p->in_w * ch, output,
                                     (size_t)p->out_h * p->out_w * ch);
    int32_t oy, ox, c0, c;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const dsp_taps t = tap_range(p, iy0, ix0);
            const int whole = t.ky0 == 0 && t.ky1 == p->k_h && t.kx0 == 0 && t.kx1 == p->k_w;
            const int8_t *x = input + ((size_t)iy0 * p->in_w + ix0) * ch;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * ch;
            /* a block of channels' outputs, stored once the block is all read (the step of the
               in-place plan, as in the portable kernel) */
            int8_t blk[MF_CONV_BLOCK];
            for (c0 = 0; c0 < ch; c0 += MF_CONV_BLOCK) {
                const int32_t end = MF_MIN(ch, c0 + MF_CONV_BLOCK);
                int8_t *const dst = hold ? blk : out + c0; /* channel c0's output */
                c = c0;
                if (whole) {
                    for (; c + 16 <= end; c += 16) {
                        dw16_whole_mve(p, x, c, dst + (c - c0));
                    }
                    if (c + 8 <= end) {
                        dw8_whole_mve(p, x, c, dst + (c - c0));
                        c += 8;
                    }
                }
                for (; c < end; c += 16) {
                    dw16_mve(p, input, iy0, ix0, t, c, MF_MIN(16, end - c), dst + (c - c0));
                }
                if (hold) {
                    memcpy(out + c0, blk, (size_t)(end - c0));
                }
            }
        }
    }
}

void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    if (p->depth_multiplier == 1) {
        dw_m1_mve(p, input, output);
    } else {
        blocks_dsp(p, input, output, 1);
    }
}
#endif

#endif
