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

/* Depth multiplier 1: weights [k_h][k_w][C] (the portable layout), bias with the offset folded. */
static void dw_m1_mve(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    const int32_t ch = p->in_c;
    int32_t oy, ox, c, ky, kx;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * ch;
            for (c = 0; c < ch; c += 16) {
                const int32_t n = ch - c;
                const mve_pred16_t p0 = vctp32q((uint32_t)n), p1 = vctp32q((uint32_t)MF_MAX(n - 4, 0));
                const mve_pred16_t p2 = vctp32q((uint32_t)MF_MAX(n - 8, 0));
                const mve_pred16_t p3 = vctp32q((uint32_t)MF_MAX(n - 12, 0));
                int32x4_t a0 = vldrwq_z_s32(p->bias + c, p0), a1 = vldrwq_z_s32(p->bias + c + 4, p1);
                int32x4_t a2 = vldrwq_z_s32(p->bias + c + 8, p2), a3 = vldrwq_z_s32(p->bias + c + 12, p3);
                const int8_t *w = p->weights + c;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dil_h;
                    const int row_in = iy >= 0 && iy < p->in_h;
                    const int8_t *xrow = input + ((size_t)iy * p->in_w) * ch + c;
                    for (kx = 0; kx < p->k_w; ++kx, w += ch) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        if (row_in && ix >= 0 && ix < p->in_w) {
                            const int8_t *x = xrow + (size_t)ix * ch;
                            a0 = vaddq_s32(a0, vmulq_s32(vldrbq_z_s32(x, p0), vldrbq_z_s32(w, p0)));
                            a1 = vaddq_s32(a1, vmulq_s32(vldrbq_z_s32(x + 4, p1), vldrbq_z_s32(w + 4, p1)));
                            a2 = vaddq_s32(a2, vmulq_s32(vldrbq_z_s32(x + 8, p2), vldrbq_z_s32(w + 8, p2)));
                            a3 = vaddq_s32(a3, vmulq_s32(vldrbq_z_s32(x + 12, p3),
                                                         vldrbq_z_s32(w + 12, p3)));
                        } else {
                            a0 = vmlaq_n_s32(a0, vldrbq_z_s32(w, p0), -p->input_offset);
                            a1 = vmlaq_n_s32(a1, vldrbq_z_s32(w + 4, p1), -p->input_offset);
                            a2 = vmlaq_n_s32(a2, vldrbq_z_s32(w + 8, p2), -p->input_offset);
                            a3 = vmlaq_n_s32(a3, vldrbq_z_s32(w + 12, p3), -p->input_offset);
                        }
                    }
                }
                conv_store4_mve(p, a0, c, out + c, MF_MIN(n, 4));
                if (n > 4) {
                    conv_store4_mve(p, a1, c + 4, out + c + 4, MF_MIN(n - 4, 4));
                }
                if (n > 8) {
                    conv_store4_mve(p, a2, c + 8, out + c + 8, MF_MIN(n - 8, 4));
                }
                if (n > 12) {
                    conv_store4_mve(p, a3, c + 12, out + c + 12, MF_MIN(n - 12, 4));
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
