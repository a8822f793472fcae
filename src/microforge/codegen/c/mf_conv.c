/* CONV_2D / DEPTHWISE_CONV_2D int8 kernels (TFLM reference integer_ops semantics). */
#include "mf_conv.h"

/* The folded bias counts every tap; taps outside the image must not count their offset term.
 * For an output pixel whose window is clipped, subtract input_offset * (weights of missing taps). */
static int32_t conv_dot(const mf_conv_s8_params *p, const int8_t *input, int32_t oy, int32_t ox,
                        int32_t oc) {
    int32_t acc = 0;
    int32_t ky, kx, ic;
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int8_t *w = p->weights + (size_t)oc * p->k_h * p->k_w * p->in_c;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + ky * p->dil_h;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + kx * p->dil_w;
            const int8_t *wt = w + ((size_t)ky * p->k_w + kx) * p->in_c;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                int32_t wsum = 0;
                for (ic = 0; ic < p->in_c; ++ic) {
                    wsum += wt[ic];
                }
                acc -= wsum * p->input_offset;
            } else {
                const int8_t *x = input + ((size_t)iy * p->in_w + ix) * p->in_c;
                for (ic = 0; ic < p->in_c; ++ic) {
                    acc += (int32_t)x[ic] * (int32_t)wt[ic];
                }
            }
        }
    }
    return acc;
}

static int8_t requantize(const mf_conv_s8_params *p, int32_t acc, int32_t oc) {
    int32_t v = mf_mbqm(acc + p->bias[oc], p->multiplier[oc], (int)p->shift[oc]);
    return (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
}

/* Each output pixel is computed into `pixel` and then stored, so all of a pixel's reads happen
 * before any of its writes (the planner relies on this order to run the layer in place). */
void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, oc;
    int8_t pixel[MF_CONV_MAX_OUT_C];
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                          p->pad_top == 0 && p->pad_left == 0;
    for (oy = 0; oy < p->out_h; ++oy) {
        for (ox = 0; ox < p->out_w; ++ox) {
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * p->out_c;
            if (pointwise) {
                const int8_t *x = input + ((size_t)oy * p->in_w + ox) * p->in_c;
                for (oc = 0; oc < p->out_c; ++oc) {
                    const int8_t *w = p->weights + (size_t)oc * p->in_c;
                    int32_t acc = 0;
                    int32_t ic;
                    for (ic = 0; ic < p->in_c; ++ic) {
                        acc += (int32_t)x[ic] * (int32_t)w[ic];
                    }
                    pixel[oc] = requantize(p, acc, oc);
                }
            } else {
                for (oc = 0; oc < p->out_c; ++oc) {
                    pixel[oc] = requantize(p, conv_dot(p, input, oy, ox, oc), oc);
                }
            }
            memcpy(out, pixel, (size_t)p->out_c);
        }
    }
}

/* Channels are processed in blocks: for each output pixel and block, the in-image taps are
 * accumulated over the block's channels (a loop gcc vectorizes), then requantized. The input
 * offset is added per tap (TFLM's arithmetic: taps outside the image contribute nothing), so the
 * depthwise bias is the model's own bias (the emitter does not fold the offset for it). */
#define MF_DW_BLOCK 64

void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, ky, kx, c0, c;
    int32_t acc[MF_DW_BLOCK];
    const int32_t m = p->depth_multiplier;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * p->out_c;
            for (c0 = 0; c0 < p->out_c; c0 += MF_DW_BLOCK) {
                const int32_t n = MF_MIN(MF_DW_BLOCK, p->out_c - c0);
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
                            for (c = 0; c < n; ++c) {
                                acc[c] += ((int32_t)xc[c] + p->input_offset) * (int32_t)w[c];
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
                for (c = 0; c < n; ++c) {
                    const int32_t v = mf_mbqm(acc[c], p->multiplier[c0 + c], (int)p->shift[c0 + c]);
                    out[c0 + c] = (int8_t)mf_clamp(v + p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
}
