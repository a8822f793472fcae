/* Elementwise binary operators with broadcasting: ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM,
 * SQUARED_DIFFERENCE. Mirrors runtime/kernels/elementwise.py. The kernels live in one source
 * per element type (mf_elementwise_s8.c, _s16, _s32, _f32), so a model links only its own. */
#ifndef MF_ELEMENTWISE_H
#define MF_ELEMENTWISE_H

#include "mf_common.h"

#define MF_BINARY_MAX_DIMS 6

/* Broadcast geometry: the output is `rows` rows of `inner` elements over `ndims` collapsed
 * dimensions; a_stride / b_stride are each operand's element strides (0 where it broadcasts).
 * Quantized variants: input offsets, the input rescale (left shift, multiplier, right shift),
 * the output multiplier with its shift split into left and right parts, and the clamp range
 * relative to the output zero point (lo - zpo, hi - zpo). Multipliers are non-negative.
 * Integer variants clamp to [lo, hi], float variants to [flo, fhi]. */
typedef struct {
    int32_t ndims, rows, inner;
    int32_t dims[MF_BINARY_MAX_DIMS];
    int32_t a_stride[MF_BINARY_MAX_DIMS];
    int32_t b_stride[MF_BINARY_MAX_DIMS];
    int32_t zp1, zp2, left_shift, m1, r1, m2, r2, mo, out_left, out_right, zpo, lo, hi;
    float flo, fhi;
    const int32_t *table1, *table2; /* int8 ADD / SUB on large tensors: rescaled inputs by value */
} mf_binary_params;

#define MF_BINARY_DECL(NAME, T) \
    void NAME(const mf_binary_params *p, const T *a, const T *b, T *out);

/* The row loop. Each operand's inner step is 1 or 0 (broadcast); element i of a row is read
 * before out[i] is written, so `out` may be `a` (in place) when `a` is not broadcast. The
 * odometer advances the operand offsets over the outer dims. The params are copied to a local
 * first: stores through an int8 pointer could alias them, which would force reloads. FAST adds a separate loop for two
 * contiguous operands, which the compiler can vectorize (used by the cheap operations only, to
 * keep code small). */
#define MF_BINARY_BODY(T, EXPR, FAST)                                                        \
    const mf_binary_params local = *params;                                                  \
    const mf_binary_params *const p = &local;                                                \
    int32_t idx[MF_BINARY_MAX_DIMS] = {0};                                                   \
    const int32_t last = p->ndims - 1, n = p->inner;                                         \
    const ptrdiff_t sa = p->a_stride[last], sb = p->b_stride[last];                          \
    size_t aoff = 0, boff = 0;                                                               \
    int32_t r, i, d;                                                                         \
    for (r = 0; r < p->rows; ++r) {                                                          \
        const T *pa = a + aoff;                                                              \
        const T *pb = b + boff;                                                              \
        T *po = out + (size_t)r * (size_t)n;                                                 \
        if ((FAST) && sa == 1 && sb == 1) {                                                  \
            for (i = 0; i < n; ++i) {                                                        \
                const T x = pa[i], y = pb[i];                                                \
                po[i] = (EXPR);                                                              \
            }                                                                                \
        } else {                                                                             \
            for (i = 0; i < n; ++i) {                                                        \
                const T x = *pa, y = *pb;                                                    \
                po[i] = (EXPR);                                                              \
                pa += sa;                                                                    \
                pb += sb;                                                                    \
            }                                                                                \
        }                                                                                    \
        for (d = last - 1; d >= 0; --d) {                                                    \
            aoff += (size_t)p->a_stride[d];                                                  \
            boff += (size_t)p->b_stride[d];                                                  \
            if (++idx[d] < p->dims[d]) {                                                     \
                break;                                                                       \
            }                                                                                \
            aoff -= (size_t)p->a_stride[d] * (size_t)p->dims[d];                             \
            boff -= (size_t)p->b_stride[d] * (size_t)p->dims[d];                             \
            idx[d] = 0;                                                                      \
        }                                                                                    \
    }

#define MF_BINARY_DEF(NAME, T, EXPR)                                                         \
    void NAME(const mf_binary_params *params, const T *a, const T *b, T *out) {              \
        MF_BINARY_BODY(T, EXPR, 0)                                                           \
    }

#define MF_BINARY_DEF_FAST(NAME, T, EXPR)                                                    \
    void NAME(const mf_binary_params *params, const T *a, const T *b, T *out) {              \
        MF_BINARY_BODY(T, EXPR, 1)                                                           \
    }

/* ---- quantized int8 / int16 (TFLM's general-scale ADD/SUB, MUL, SQUARED_DIFFERENCE) ---- */

/* (v - zp) << left_shift rescaled by MultiplyByQuantizedMultiplierSmallerThanOneExp. */
static inline int32_t mf_rescale_input(int32_t v, int32_t zp, int32_t left_shift, int32_t m,
                                       int32_t right) {
    return mf_requantize((int32_t)((uint32_t)(v - zp) << left_shift), m, 0, right);
}

/* clamp(mbqm(raw) + zpo, lo, hi), with lo and hi stored relative to zpo (no int32 overflow). */
static inline int32_t mf_requantize_output(const mf_binary_params *p, int32_t raw) {
    return mf_clamp(mf_requantize(raw, p->mo, p->out_left, p->out_right), p->lo, p->hi) + p->zpo;
}

static inline int32_t mf_add_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t s1 = mf_rescale_input(x, p->zp1, p->left_shift, p->m1, p->r1);
    const int32_t s2 = mf_rescale_input(y, p->zp2, p->left_shift, p->m2, p->r2);
    return mf_requantize_output(p, mf_wrap_add(s1, s2));
}

static inline int32_t mf_sub_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t s1 = mf_rescale_input(x, p->zp1, p->left_shift, p->m1, p->r1);
    const int32_t s2 = mf_rescale_input(y, p->zp2, p->left_shift, p->m2, p->r2);
    return mf_requantize_output(p, mf_wrap_sub(s1, s2));
}

static inline int32_t mf_mul_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t prod = (int32_t)((uint32_t)(x - p->zp1) * (uint32_t)(y - p->zp2));
    return mf_requantize_output(p, prod);
}

/* The difference of the rescaled inputs squared with int32 wrap-around. */
static inline int32_t mf_squared_difference_q(const mf_binary_params *p, int32_t x, int32_t y) {
    const int32_t s1 = mf_rescale_input(x, p->zp1, p->left_shift, p->m1, p->r1);
    const int32_t s2 = mf_rescale_input(y, p->zp2, p->left_shift, p->m2, p->r2);
    const uint32_t d = (uint32_t)s1 - (uint32_t)s2;
    return mf_requantize_output(p, (int32_t)(d * d));
}

#endif
