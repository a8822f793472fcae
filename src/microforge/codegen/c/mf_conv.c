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

void mf_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, oc;
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
                    out[oc] = requantize(p, acc, oc);
                }
            } else {
                for (oc = 0; oc < p->out_c; ++oc) {
                    out[oc] = requantize(p, conv_dot(p, input, oy, ox, oc), oc);
                }
            }
        }
    }
}

void mf_depthwise_conv_s8(const mf_conv_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, oc, ky, kx;
    const int32_t m = p->depth_multiplier;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + ((size_t)oy * p->out_w + ox) * p->out_c;
            for (oc = 0; oc < p->out_c; ++oc) {
                const int32_t ic = oc / m;
                int32_t acc = 0;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + ky * p->dil_h;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = ix0 + kx * p->dil_w;
                        const int32_t w = p->weights[((size_t)ky * p->k_w + kx) * p->out_c + oc];
                        if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                            acc -= w * p->input_offset;
                        } else {
                            acc += w * input[((size_t)iy * p->in_w + ix) * p->in_c + ic];
                        }
                    }
                }
                out[oc] = requantize(p, acc, oc);
            }
        }
    }
}
