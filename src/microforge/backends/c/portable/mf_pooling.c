#include "mf_pooling.h"

/* TFLM: int32 sum of the image cells under the window; (sum +- count/2) / count with C's
 * truncating division (halves away from zero); clamp to the activation range. */
void mf_average_pool_s8(const mf_pool_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, c, ky, kx;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t ky0 = MF_MAX(0, -y0), ky1 = MF_MIN(p->k_h, p->in_h - y0);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t kx0 = MF_MAX(0, -x0), kx1 = MF_MIN(p->k_w, p->in_w - x0);
            const int32_t count = (ky1 - ky0) * (kx1 - kx0);
            for (c = 0; c < p->channels; ++c) {
                int32_t sum = 0;
                int32_t v;
                for (ky = ky0; ky < ky1; ++ky) {
                    for (kx = kx0; kx < kx1; ++kx) {
                        sum += input[((size_t)(y0 + ky) * p->in_w + (x0 + kx)) * p->channels + c];
                    }
                }
                v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                output[((size_t)oy * p->out_w + ox) * p->channels + c] =
                    (int8_t)mf_clamp(v, p->act_min, p->act_max);
            }
        }
    }
}

void mf_max_pool_s8(const mf_pool_s8_params *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, c, ky, kx;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        const int32_t ky0 = MF_MAX(0, -y0), ky1 = MF_MIN(p->k_h, p->in_h - y0);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_left;
            const int32_t kx0 = MF_MAX(0, -x0), kx1 = MF_MIN(p->k_w, p->in_w - x0);
            for (c = 0; c < p->channels; ++c) {
                int32_t m = -128;
                for (ky = ky0; ky < ky1; ++ky) {
                    for (kx = kx0; kx < kx1; ++kx) {
                        const int32_t v =
                            input[((size_t)(y0 + ky) * p->in_w + (x0 + kx)) * p->channels + c];
                        m = MF_MAX(m, v);
                    }
                }
                output[((size_t)oy * p->out_w + ox) * p->channels + c] =
                    (int8_t)mf_clamp(m, p->act_min, p->act_max);
            }
        }
    }
}
