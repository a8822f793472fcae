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

void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    if (p->pointwise) {
        conv_pointwise_s8_dsp(p, input, output);
    } else {
        blocks_dsp(p, input, output, 0);
    }
}

void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    blocks_dsp(p, input, output, 1);
}
#endif

#endif
