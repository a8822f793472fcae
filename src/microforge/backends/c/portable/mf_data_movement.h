/* Data movement and reductions: CONCATENATION, STRIDED_SLICE, TRANSPOSE, PAD / PADV2, CAST,
 * RESIZE_NEAREST_NEIGHBOR, MEAN / SUM / REDUCE_MAX / REDUCE_MIN. Mirrors the runtime kernels of the same names. */
#ifndef MF_DATA_MOVEMENT_H
#define MF_DATA_MOVEMENT_H

#include "mf_common.h"

#define MF_MOVE_MAX_DIMS 6
#define MF_CONCAT_MAX_INPUTS 10

/* Element copy over `ndims` dimensions of `counts` (last fastest): source and destination
 * offsets (in elements) start at their bases and step by their strides. `rows` is the product of
 * all counts but the last. */
typedef struct {
    int32_t ndims, rows, elem_size;
    int32_t counts[MF_MOVE_MAX_DIMS];
    int32_t src_steps[MF_MOVE_MAX_DIMS];
    int32_t dst_steps[MF_MOVE_MAX_DIMS];
    int32_t src_base, dst_base;
} mf_copy_params;

/* `outer` blocks; block k of input i (chunk[i] bytes) lands at k * out_chunk + offset[i]. */
typedef struct {
    int32_t inputs, outer, out_chunk;
    int32_t chunk[MF_CONCAT_MAX_INPUTS];
    int32_t offset[MF_CONCAT_MAX_INPUTS];
} mf_concat_params;

/* PAD: fill `total` elements with the pad value, then copy the input as `copy` says. */
typedef struct {
    int32_t total;
    mf_copy_params copy;
} mf_pad_params;

/* RESIZE_NEAREST_NEIGHBOR of `batches` NHWC images: output pixel (y, x) is a copy of the
 * `pixel_bytes` of input pixel (rows[y], cols[x]) (the index tables are computed at compile
 * time, as the runtime's prepare computes them). */
typedef struct {
    int32_t batches, in_h, in_w, out_h, out_w, pixel_bytes;
    const int32_t *rows, *cols;
} mf_resize_params;

/* Reductions: the kept dimensions (output order) and the reduced ones (summation order), each
 * with input strides; `n` reduced elements per output. Quantized sums: (sum - offset) rescaled by
 * (m, s), clamped to [lo, hi] (relative to zp_out), plus zp_out. Float MEAN divides by n. */
typedef struct {
    int32_t kept_ndims, kept_total;
    int32_t kept_counts[MF_MOVE_MAX_DIMS];
    int32_t kept_steps[MF_MOVE_MAX_DIMS];
    int32_t red_ndims, red_rows, n;
    int32_t red_counts[MF_MOVE_MAX_DIMS];
    int32_t red_steps[MF_MOVE_MAX_DIMS];
    int32_t offset, m, s, lo, hi, zp_out, divide;
} mf_reduce_params;

void mf_strided_copy(const mf_copy_params *p, const void *src, void *dst);
void mf_concatenation(const mf_concat_params *p, const void *const *inputs, void *output);
void mf_pad(const mf_pad_params *p, const void *input, const void *value, void *output);
void mf_resize_nearest(const mf_resize_params *p, const void *input, void *output);

void mf_reduce_sum_f32(const mf_reduce_params *p, const float *x, float *out);
void mf_reduce_sum_s8(const mf_reduce_params *p, const int8_t *x, int8_t *out);
void mf_reduce_sum_s16(const mf_reduce_params *p, const int16_t *x, int16_t *out);
void mf_reduce_max_f32(const mf_reduce_params *p, const float *x, float *out);
void mf_reduce_min_f32(const mf_reduce_params *p, const float *x, float *out);
void mf_reduce_max_s8(const mf_reduce_params *p, const int8_t *x, int8_t *out);
void mf_reduce_min_s8(const mf_reduce_params *p, const int8_t *x, int8_t *out);

#define MF_CAST_DECL(FROM, FROM_T, TO, TO_T) \
    void mf_cast_##FROM##_##TO(const FROM_T *x, TO_T *y, int32_t n);
#define MF_CAST_DECL_ALL(FROM, FROM_T)            \
    MF_CAST_DECL(FROM, FROM_T, s8, int8_t)        \
    MF_CAST_DECL(FROM, FROM_T, s16, int16_t)      \
    MF_CAST_DECL(FROM, FROM_T, s32, int32_t)      \
    MF_CAST_DECL(FROM, FROM_T, u32, uint32_t)     \
    MF_CAST_DECL(FROM, FROM_T, f32, float)

MF_CAST_DECL_ALL(s16, int16_t)
MF_CAST_DECL_ALL(s32, int32_t)
MF_CAST_DECL_ALL(u32, uint32_t)
MF_CAST_DECL_ALL(f32, float)

#endif
