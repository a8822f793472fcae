#include "mf_prelu.h"

/* The row loop over the collapsed broadcast dims (odometer over the outer ones). Each element of
 * x is read before the output element is written, so `out` may be `x` when x is not broadcast. */
#define MF_PRELU_BODY(XT, AT, EXPR)                                                          \
    const mf_prelu_params local = *params;                                                   \
    const mf_prelu_params *const p = &local;                                                 \
    int32_t idx[MF_PRELU_MAX_DIMS] = {0};                                                    \
    const int32_t last = p->ndims - 1, n = p->inner;                                         \
    const ptrdiff_t sx = p->x_stride[last], sa = p->a_stride[last];                          \
    ptrdiff_t xoff = 0, aoff = 0;                                                            \
    int32_t r, i, d;                                                                         \
    for (r = 0; r < p->rows; ++r) {                                                          \
        const XT *px = x + xoff;                                                             \
        const AT *pa = alpha + aoff;                                                         \
        XT *po = out + (size_t)r * (size_t)n;                                                \
        for (i = 0; i < n; ++i) {                                                            \
            const XT v = px[(ptrdiff_t)i * sx];                                              \
            const AT a = pa[(ptrdiff_t)i * sa];                                              \
            po[i] = (EXPR);                                                                  \
        }                                                                                    \
        for (d = last - 1; d >= 0; --d) {                                                    \
            xoff += p->x_stride[d];                                                          \
            aoff += p->a_stride[d];                                                          \
            if (++idx[d] < p->dims[d]) {                                                     \
                break;                                                                       \
            }                                                                                \
            xoff -= (ptrdiff_t)p->x_stride[d] * p->dims[d];                                  \
            aoff -= (ptrdiff_t)p->a_stride[d] * p->dims[d];                                  \
            idx[d] = 0;                                                                      \
        }                                                                                    \
    }

static inline int32_t mf_prelu_q(const mf_prelu_params *p, int32_t x, int32_t alpha) {
    const int32_t v = x - p->zp_in;
    const int32_t scaled = v >= 0 ? mf_requantize(v, p->m1, p->l1, p->r1)
                                  : mf_requantize(v * (alpha - p->zp_alpha), p->m2, p->l2, p->r2);
    return mf_clamp(scaled + p->zp_out, p->lo, p->hi);
}

void mf_prelu_f32(const mf_prelu_params *params, const float *x, const float *alpha,
                  float *out) {
    MF_PRELU_BODY(float, float, v >= 0.0f ? v : v * a)
}

void mf_prelu_s8(const mf_prelu_params *params, const int8_t *x, const int8_t *alpha,
                 int8_t *out) {
    MF_PRELU_BODY(int8_t, int8_t, (int8_t)mf_prelu_q(p, v, a))
}

void mf_prelu_s16(const mf_prelu_params *params, const int16_t *x, const int8_t *alpha,
                  int16_t *out) {
    MF_PRELU_BODY(int16_t, int8_t, (int16_t)mf_prelu_q(p, v, a))
}
