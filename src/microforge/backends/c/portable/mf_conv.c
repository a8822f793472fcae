/* CONV_2D / DEPTHWISE_CONV_2D int8 kernels; see mf_conv.h for the evaluation order. */
#include "mf_conv.h"

static void store_block(const mf_conv_s8_params *p, const int32_t *acc, int32_t c0, int32_t n,
                        int8_t *out) {
    int32_t c;
    for (c = 0; c < n; ++c) {
        const int32_t v = mf_requantize(acc[c], p->multiplier[c0 + c], p->left_shift[c0 + c],
                                        p->right_shift[c0 + c]);
        out[c] = (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
    }
}

#if !defined(MF_VARIANT_CONV_S8) || defined(MF_CONV_PORTABLE_FALLBACK)
static void conv_pointwise_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int16_t row[MF_CONV_MAX_POINTWISE_IN_C];
    const int32_t pixels = p->out_h * p->out_w;
    int32_t px, ic, oc;
    for (px = 0; px < pixels; ++px) {
        const int8_t *x = input + (size_t)px * p->in_c;
        int8_t *out = output + (size_t)px * p->out_c;
        for (ic = 0; ic < p->in_c; ++ic) {
            row[ic] = (int16_t)(x[ic] + p->input_offset);
        }
        for (oc = 0; oc < p->out_c; ++oc) {
            const int8_t *w = p->weights + (size_t)oc * p->in_c;
            int32_t acc = p->bias[oc];
            int32_t v;
            for (ic = 0; ic < p->in_c; ++ic) {
                acc += (int32_t)row[ic] * (int32_t)w[ic];
            }
            v = mf_requantize(acc, p->multiplier[oc], p->left_shift[oc], p->right_shift[oc]);
            out[oc] = (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
        }
    }
}

/* The portable loops (a variant whose weights are in its own layout only when given the scratch
 * falls back to them: MF_CONV_PORTABLE_FALLBACK). */
static void conv_portable_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, ky, kx, ic, c0, c;
    int32_t acc[MF_CONV_BLOCK];
    if (p->pointwise) {
        conv_pointwise_s8(p, input, output);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * p->out_c;
            for (c0 = 0; c0 < p->out_c; c0 += MF_CONV_BLOCK) {
                const int32_t n = MF_MIN(MF_CONV_BLOCK, p->out_c - c0);
                for (c = 0; c < n; ++c) {
                    acc[c] = p->bias[c0 + c];
                }
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dil_h;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        const int8_t *x;
                        const int8_t *w;
                        if (ix < 0 || ix >= p->in_w) {
                            continue;
                        }
                        x = input + ((size_t)iy * p->in_w + ix) * p->in_c;
                        w = p->weights + ((size_t)(ky * p->k_w + kx) * p->in_c) * p->out_c + c0;
                        for (ic = 0; ic < p->in_c; ++ic) {
                            const int32_t xv = (int32_t)x[ic] + p->input_offset;
                            const int8_t *wr = w + (size_t)ic * p->out_c;
                            for (c = 0; c < n; ++c) {
                                acc[c] += xv * (int32_t)wr[c];
                            }
                        }
                    }
                }
                store_block(p, acc, c0, n, out + c0);
            }
        }
    }
}
#endif

#ifndef MF_VARIANT_CONV_S8
void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output, int16_t *col) {
    (void)col;
    conv_portable_s8(p, input, output);
}
#endif

#if !defined(MF_VARIANT_DEPTHWISE_CONV_S8) || defined(MF_CONV_PORTABLE_FALLBACK)
static void depthwise_portable_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, ky, kx, c0, c;
    int32_t acc[MF_CONV_BLOCK];
    const int32_t m = p->depth_multiplier;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * p->out_c;
            for (c0 = 0; c0 < p->out_c; c0 += MF_CONV_BLOCK) {
                const int32_t n = MF_MIN(MF_CONV_BLOCK, p->out_c - c0);
                for (c = 0; c < n; ++c) {
                    acc[c] = p->bias[c0 + c];
                }
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dil_h;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        const int8_t *w;
                        const int8_t *x;
                        if (ix < 0 || ix >= p->in_w) {
                            continue;
                        }
                        w = p->weights + ((size_t)ky * p->k_w + kx) * p->out_c + c0;
                        x = input + ((size_t)iy * p->in_w + ix) * p->in_c;
                        if (m == 1) {
                            const int8_t *xc = x + c0;
                            const int16_t offset = (int16_t)p->input_offset;
                            for (c = 0; c < n; ++c) {
                                acc[c] += (int16_t)((int16_t)(xc[c] + offset) * (int16_t)w[c]);
                            }
                        } else if (p->in_c == 1) {
                            const int32_t xv = (int32_t)x[0] + p->input_offset;
                            for (c = 0; c < n; ++c) {
                                acc[c] += xv * (int32_t)w[c];
                            }
                        } else {
                            for (c = 0; c < n; ++c) {
                                acc[c] += ((int32_t)x[(c0 + c) / m] + p->input_offset) * (int32_t)w[c];
                            }
                        }
                    }
                }
                store_block(p, acc, c0, n, out + c0);
            }
        }
    }
}
#endif

#ifndef MF_VARIANT_DEPTHWISE_CONV_S8
void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    depthwise_portable_s8(p, input, output);
}
#endif

/* The SSE2 versions of the kernels left out above (MF_VARIANT_*), on x86 hosts. */
#include "mf_conv_sse2.h"
/* The Arm DSP versions of the kernels left out above (MF_VARIANT_*), on cores that have it. */
#include "mf_conv_dsp.h"
/* The Helium (MVE) versions, on cores that have it (they replace the DSP ones). */
#include "mf_conv_mve.h"
