#include "mf_data_movement.h"

/* Odometer over dims [0, nd) (last fastest): the next index, with the offsets of two arrays
 * moved by their strides (b may be NULL). */
static void mf_advance(int32_t *idx, const int32_t *counts, int32_t nd, const int32_t *steps_a,
                       ptrdiff_t *off_a, const int32_t *steps_b, ptrdiff_t *off_b) {
    int32_t d;
    for (d = nd - 1; d >= 0; --d) {
        *off_a += steps_a[d];
        if (steps_b) {
            *off_b += steps_b[d];
        }
        if (++idx[d] < counts[d]) {
            return;
        }
        *off_a -= (ptrdiff_t)steps_a[d] * counts[d];
        if (steps_b) {
            *off_b -= (ptrdiff_t)steps_b[d] * counts[d];
        }
        idx[d] = 0;
    }
}

/* One row of `n` elements of SIZE bytes, as byte copies (any element type, no aliasing issue;
 * the compiler turns each into one load and one store). */
#define MF_COPY_ROW(SIZE)                                                                  \
    for (i = 0; i < n; ++i) {                                                              \
        memcpy(d + (ptrdiff_t)i * ds * (SIZE), s + (ptrdiff_t)i * ss * (SIZE), (SIZE));    \
    }

void mf_strided_copy(const mf_copy_params *p, const void *src, void *dst) {
    const int32_t last = p->ndims - 1, n = p->counts[last], size = p->elem_size;
    const ptrdiff_t ss = p->src_steps[last], ds = p->dst_steps[last];
    int32_t idx[MF_MOVE_MAX_DIMS] = {0};
    ptrdiff_t so = p->src_base, dof = p->dst_base;
    int32_t r, i;
    for (r = 0; r < p->rows; ++r) {
        const uint8_t *s = (const uint8_t *)src + so * size;
        uint8_t *d = (uint8_t *)dst + dof * size;
        if (ss == 1 && ds == 1) {
            memcpy(d, s, (size_t)n * (size_t)size);
        } else if (size == 1) {
            MF_COPY_ROW(1)
        } else if (size == 2) {
            MF_COPY_ROW(2)
        } else if (size == 4) {
            MF_COPY_ROW(4)
        } else {
            MF_COPY_ROW(8)
        }
        mf_advance(idx, p->counts, last, p->src_steps, &so, p->dst_steps, &dof);
    }
}

void mf_concatenation(const mf_concat_params *p, const void *const *inputs, void *output) {
    int32_t k, i;
    for (k = 0; k < p->outer; ++k) {
        uint8_t *out = (uint8_t *)output + (size_t)k * (size_t)p->out_chunk;
        for (i = 0; i < p->inputs; ++i) {
            const uint8_t *in = (const uint8_t *)inputs[i] + (size_t)k * (size_t)p->chunk[i];
            memcpy(out + p->offset[i], in, (size_t)p->chunk[i]);
        }
    }
}

void mf_pad(const mf_pad_params *p, const void *input, const void *value, void *output) {
    const size_t size = (size_t)p->copy.elem_size;
    uint8_t *out = (uint8_t *)output;
    int32_t i;
    for (i = 0; i < p->total; ++i) {
        memcpy(out + (size_t)i * size, value, size);
    }
    mf_strided_copy(&p->copy, input, output);
}

void mf_resize_nearest(const mf_resize_params *p, const void *input, void *output) {
    const size_t pixel = (size_t)p->pixel_bytes;
    const uint8_t *image = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    int32_t b, y, x;
    for (b = 0; b < p->batches; ++b) {
        for (y = 0; y < p->out_h; ++y) {
            const uint8_t *row = image + (size_t)p->rows[y] * (size_t)p->in_w * pixel;
            for (x = 0; x < p->out_w; ++x) {
                memcpy(out, row + (size_t)p->cols[x] * pixel, pixel);
                out += pixel;
            }
        }
        image += (size_t)p->in_h * (size_t)p->in_w * pixel;
    }
}

/* ---- reductions ---- */

/* Visit every output (kept index, row-major) and, within it, every reduced element in row-major
 * order of the reduced dims: INIT, STEP(v) per element, FINISH gives the output value. */
#define MF_REDUCE_DEF(NAME, T, ACC_T, INIT, STEP, FINISH)                                      \
    void NAME(const mf_reduce_params *p, const T *x, T *out) {                                 \
        const int32_t rlast = p->red_ndims - 1, rn = p->red_counts[rlast];                     \
        const ptrdiff_t rstep = p->red_steps[rlast];                                           \
        int32_t kidx[MF_MOVE_MAX_DIMS] = {0};                                                  \
        ptrdiff_t koff = 0;                                                                    \
        int32_t o, r, i;                                                                       \
        for (o = 0; o < p->kept_total; ++o) {                                                  \
            int32_t ridx[MF_MOVE_MAX_DIMS] = {0};                                              \
            ptrdiff_t roff = 0;                                                                \
            ACC_T acc = (INIT);                                                                \
            for (r = 0; r < p->red_rows; ++r) {                                                \
                const T *px = x + koff + roff;                                                 \
                for (i = 0; i < rn; ++i) {                                                     \
                    const T v = px[(ptrdiff_t)i * rstep];                                      \
                    STEP;                                                                      \
                }                                                                              \
                mf_advance(ridx, p->red_counts, rlast, p->red_steps, &roff, NULL, NULL);       \
            }                                                                                  \
            out[o] = (FINISH);                                                                 \
            mf_advance(kidx, p->kept_counts, p->kept_ndims, p->kept_steps, &koff, NULL, NULL); \
        }                                                                                      \
    }

/* QuantizedMeanOrSum: the int32 (wrapping) sum minus zp_in * n, rescaled, offset, clamped. */
static inline int32_t mf_reduce_requantize(const mf_reduce_params *p, uint32_t sum) {
    const int32_t centered = (int32_t)(sum - (uint32_t)p->offset);
    return mf_clamp(mf_mbqm(centered, p->m, (int)p->s), p->lo, p->hi) + p->zp_out;
}

/* Float: a sequential sum from 0.0f, divided by the float element count for MEAN. */
static inline float mf_reduce_mean_f32(const mf_reduce_params *p, float sum) {
    return p->divide && p->n > 0 ? sum / (float)p->n : sum;
}

MF_REDUCE_DEF(mf_reduce_sum_f32, float, float, 0.0f, acc += v, mf_reduce_mean_f32(p, acc))
MF_REDUCE_DEF(mf_reduce_sum_s8, int8_t, uint32_t, 0u, acc += (uint32_t)(int32_t)v,
              (int8_t)mf_reduce_requantize(p, acc))
MF_REDUCE_DEF(mf_reduce_sum_s16, int16_t, uint32_t, 0u, acc += (uint32_t)(int32_t)v,
              (int16_t)mf_reduce_requantize(p, acc))
/* TFLM's (v > current) ? v : current from lowest() (`<` from max() for MIN): NaN never wins. */
MF_REDUCE_DEF(mf_reduce_max_f32, float, float, -3.40282346638528859812e+38f,
              acc = v > acc ? v : acc, acc)
MF_REDUCE_DEF(mf_reduce_min_f32, float, float, 3.40282346638528859812e+38f,
              acc = v < acc ? v : acc, acc)
MF_REDUCE_DEF(mf_reduce_max_s8, int8_t, int8_t, -128, acc = v > acc ? v : acc, acc)
MF_REDUCE_DEF(mf_reduce_min_s8, int8_t, int8_t, 127, acc = v < acc ? v : acc, acc)

/* ---- CAST: integers wrap (two's complement), integers to float round to nearest, float to
 * integers truncates toward zero and saturates with NaN giving 0 ---- */

static inline int8_t mf_to_s8(uint32_t u) {
    return (int8_t)((int32_t)((u + 128u) & 0xFFu) - 128);
}

static inline int16_t mf_to_s16(uint32_t u) {
    return (int16_t)((int32_t)((u + 32768u) & 0xFFFFu) - 32768);
}

static inline int32_t mf_to_s32(uint32_t u) {
    return u <= 0x7FFFFFFFu ? (int32_t)u : (int32_t)(u - 0x80000000u) + INT32_MIN;
}

static inline double mf_saturate_f(float x, double lo, double hi) {
    const double t = (double)x;
    if (t != t) {
        return 0.0;
    }
    return t <= lo ? lo : (t >= hi ? hi : t);
}

#define MF_CAST_DEF(FROM, FROM_T, TO, TO_T, EXPR)                     \
    void mf_cast_##FROM##_##TO(const FROM_T *x, TO_T *y, int32_t n) { \
        int32_t i;                                                    \
        for (i = 0; i < n; ++i) {                                     \
            const FROM_T v = x[i];                                    \
            y[i] = (EXPR);                                            \
        }                                                             \
    }

#define MF_CAST_INT(FROM, FROM_T)                                                  \
    MF_CAST_DEF(FROM, FROM_T, s8, int8_t, mf_to_s8((uint32_t)v))                    \
    MF_CAST_DEF(FROM, FROM_T, s16, int16_t, mf_to_s16((uint32_t)v))                 \
    MF_CAST_DEF(FROM, FROM_T, s32, int32_t, mf_to_s32((uint32_t)v))                 \
    MF_CAST_DEF(FROM, FROM_T, u32, uint32_t, (uint32_t)v)                           \
    MF_CAST_DEF(FROM, FROM_T, f32, float, (float)v)

MF_CAST_INT(s16, int16_t)
MF_CAST_INT(s32, int32_t)
MF_CAST_INT(u32, uint32_t)
MF_CAST_DEF(f32, float, s8, int8_t, (int8_t)mf_saturate_f(v, -128.0, 127.0))
MF_CAST_DEF(f32, float, s16, int16_t, (int16_t)mf_saturate_f(v, -32768.0, 32767.0))
MF_CAST_DEF(f32, float, s32, int32_t, (int32_t)mf_saturate_f(v, -2147483648.0, 2147483647.0))
MF_CAST_DEF(f32, float, u32, uint32_t, (uint32_t)mf_saturate_f(v, 0.0, 4294967295.0))
MF_CAST_DEF(f32, float, f32, float, v)
