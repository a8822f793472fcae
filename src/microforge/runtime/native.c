/* Batched int8 convolutions for the host runtime (runtime/native.py builds this with the host's
 * gcc, -O3 -march=native -ffp-contract=off, and calls it through ctypes).
 *
 * Accumulators: TFLM's int32 sums of (x + input_offset) * w over the taps inside the image
 * (reference_integer_ops ConvPerChannel / DepthwiseConvPerChannel); the caller only uses this
 * file when every partial sum is bounded below 2^24, so int32 never wraps. Output stage: the
 * Requantizer's float affine map (kernels/common.py), evaluated with the same IEEE operations in
 * the same order as its numpy code (no FMA contraction): y = acc * m[c]; y += b[c]; then either
 * clip(y, 0, hi - lo + 0.5) truncated (origin == act_min) or floor and clip (centred origin);
 * plus origin. That map equals TFLM's MultiplyByQuantizedMultiplier stage on every accumulator
 * of the layer's range, by construction. Layers without such a map run TFLM's fixed-point stage
 * itself (fixed_stage). */

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const void *m, *b; /* float32 / float64 (m, b) per channel; fixed point: int32 multipliers,
                          int64 (shifts, biases) as two rows of `len` values */
    int mode, origin, lo, hi; /* mode 0 float32, 1 float64, 2 fixed point (origin: zero point) */
    int len;
} mf_stage;

/* MultiplyByQuantizedMultiplier(int32 x, int32 q, int shift) + zero point, clamped: fixedpoint.py
 * step for step (the int32 wrap of acc + bias, the left shift, SaturatingRoundingDoublingHighMul,
 * RoundingDivideByPOT). */
static int32_t fixed_stage(int32_t acc, int32_t q, int64_t shift, int64_t bias, int zp, int lo,
                           int hi) {
    const int32_t x = (int32_t)(uint32_t)(uint64_t)((int64_t)acc + bias);
    const int left = shift > 0 ? (int)shift : 0, right = shift < 0 ? (int)-shift : 0;
    const int32_t a = left ? (int32_t)(uint32_t)(uint64_t)((int64_t)x * ((int64_t)1 << left)) : x;
    int64_t high;
    if (a == INT32_MIN && q == INT32_MIN)
        high = INT32_MAX;
    else
        high = ((int64_t)a * q + ((int64_t)1 << 30)) >> 31;
    if (right > 0) high = (high + ((high >> 63) + ((int64_t)1 << (right - 1)))) >> right;
    high += zp;
    return (int32_t)(high < lo ? lo : high > hi ? hi : high);
}

static void stage(const int32_t *acc, int ch, const mf_stage *s, int8_t *out) {
    if (s->mode == 2) {
        const int32_t *q = (const int32_t *)s->m;
        const int64_t *shift = (const int64_t *)s->b, *bias = shift + s->len;
        for (int c = 0; c < ch; c++)
            out[c] = (int8_t)fixed_stage(acc[c], q[c], shift[c], bias[c], s->origin, s->lo, s->hi);
    } else if (s->mode == 0) {
        const float *m = (const float *)s->m, *b = (const float *)s->b;
        if (s->origin == s->lo) {
            const float top = (float)(s->hi - s->lo) + 0.5f;
            for (int c = 0; c < ch; c++) {
                float y = (float)acc[c] * m[c];
                y = y + b[c];
                y = y < 0.0f ? 0.0f : y;
                y = y > top ? top : y;
                out[c] = (int8_t)((int32_t)y + s->origin);
            }
        } else {
            const float lo = (float)(s->lo - s->origin), hi = (float)(s->hi - s->origin);
            for (int c = 0; c < ch; c++) {
                float y = (float)acc[c] * m[c];
                y = floorf(y + b[c]);
                y = y < lo ? lo : y;
                y = y > hi ? hi : y;
                out[c] = (int8_t)((int32_t)y + s->origin);
            }
        }
    } else {
        const double *m = (const double *)s->m, *b = (const double *)s->b;
        if (s->origin == s->lo) {
            const double top = (double)(s->hi - s->lo) + 0.5;
            for (int c = 0; c < ch; c++) {
                double y = (double)acc[c] * m[c];
                y = y + b[c];
                y = y < 0.0 ? 0.0 : y;
                y = y > top ? top : y;
                out[c] = (int8_t)((int32_t)y + s->origin);
            }
        } else {
            const double lo = (double)(s->lo - s->origin), hi = (double)(s->hi - s->origin);
            for (int c = 0; c < ch; c++) {
                double y = (double)acc[c] * m[c];
                y = floor(y + b[c]);
                y = y < lo ? lo : y;
                y = y > hi ? hi : y;
                out[c] = (int8_t)((int32_t)y + s->origin);
            }
        }
    }
}

/* geometry: in_h, in_w, k_h, k_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, out_h,
 * out_w */
enum { IH, IW, KH, KW, SH, SW, DH, DW, PT, PL, OH, OW };

/* DEPTHWISE_CONV_2D (depth multiplier 1; the caller repeats the input channels otherwise):
 * x (n, in_h, in_w, ch) int8; w (k_h * k_w, out_w * ch) int16, each tap's weights repeated for
 * every output column; m, b the output map likewise repeated (out_w * ch); out (n, out_h, out_w,
 * ch). One output row at a time: per tap, the columns it reads inside the image are one
 * contiguous run at stride 1, so the inner loop runs over out_w * ch values. (x + input_offset)
 * * w fits int16 (|x - zp| <= 255, |w| <= 128); sums are int32. */
int mf_depthwise_s8(const int8_t *x, int n, int ch, const int16_t *w, const int *g,
                    int32_t input_offset, const void *m, const void *b, int mode, int origin,
                    int lo, int hi, int8_t *out) {
    const int row = g[OW] * ch;
    const mf_stage s = {m, b, mode, origin, lo, hi, row};
    int32_t *acc = (int32_t *)malloc(sizeof(int32_t) * (size_t)row);
    if (!acc) return -1;
    const int16_t offset = (int16_t)input_offset;
    for (int i = 0; i < n; i++) {
        const int8_t *xs = x + (size_t)i * g[IH] * g[IW] * ch;
        int8_t *os = out + (size_t)i * g[OH] * row;
        for (int oy = 0; oy < g[OH]; oy++) {
            memset(acc, 0, sizeof(int32_t) * (size_t)row);
            for (int ky = 0; ky < g[KH]; ky++) {
                const int iy = oy * g[SH] - g[PT] + ky * g[DH];
                if (iy < 0 || iy >= g[IH]) continue;
                const int8_t *xr = xs + (size_t)iy * g[IW] * ch;
                for (int kx = 0; kx < g[KW]; kx++) {
                    const int shift = kx * g[DW] - g[PL]; /* ix = ox * stride + shift */
                    int first = shift < 0 ? (-shift + g[SW] - 1) / g[SW] : 0;
                    int last = (g[IW] - 1 - shift) / g[SW] + 1; /* exclusive */
                    if (g[IW] - 1 - shift < 0) last = 0;
                    if (last > g[OW]) last = g[OW];
                    if (first >= last) continue;
                    const int16_t *wt = w + (size_t)(ky * g[KW] + kx) * row;
                    if (g[SW] == 1) {
                        const int8_t *src = xr + (ptrdiff_t)shift * ch;
                        for (int j = first * ch; j < last * ch; j++)
                            acc[j] += (int16_t)((int16_t)(src[j] + offset) * wt[j]);
                    } else {
                        for (int ox = first; ox < last; ox++) {
                            const int8_t *px = xr + (size_t)(ox * g[SW] + shift) * ch;
                            int32_t *a = acc + (size_t)ox * ch;
                            const int16_t *wo = wt + (size_t)ox * ch;
                            for (int c = 0; c < ch; c++)
                                a[c] += (int16_t)((int16_t)(px[c] + offset) * wo[c]);
                        }
                    }
                }
            }
            stage(acc, row, &s, os + (size_t)oy * row);
        }
    }
    free(acc);
    return 0;
}

/* CONV_2D, one filter group: x (n, in_h, in_w, c_in) int8; w (c_out, k) int16 with k = k_h *
 * k_w * c_in rounded up to a multiple of 16 (tap-major, then input channel; zeros after); m, b
 * per output channel; out (n, out_h, out_w, c_out). Per output pixel the window is gathered as
 * int16 (x + input_offset, 0 outside the image: TFLM skips those taps) and each output channel
 * is one int16 dot product (pmaddwd-style pairs summed in int32). */
int mf_conv_s8(const int8_t *x, int n, int c_in, const int16_t *w, int c_out, int k,
               const int *g, int32_t input_offset, const void *m, const void *b, int mode,
               int origin, int lo, int hi, int8_t *out) {
    const mf_stage s = {m, b, mode, origin, lo, hi, c_out};
    int16_t *col = (int16_t *)calloc((size_t)k, sizeof(int16_t));
    int32_t *acc = (int32_t *)malloc(sizeof(int32_t) * (size_t)c_out);
    if (!col || !acc) {
        free(col);
        free(acc);
        return -1;
    }
    const int16_t offset = (int16_t)input_offset;
    for (int i = 0; i < n; i++) {
        const int8_t *xs = x + (size_t)i * g[IH] * g[IW] * c_in;
        int8_t *os = out + (size_t)i * g[OH] * g[OW] * c_out;
        for (int oy = 0; oy < g[OH]; oy++) {
            for (int ox = 0; ox < g[OW]; ox++) {
                int16_t *dst = col;
                for (int ky = 0; ky < g[KH]; ky++) {
                    const int iy = oy * g[SH] - g[PT] + ky * g[DH];
                    for (int kx = 0; kx < g[KW]; kx++, dst += c_in) {
                        const int ix = ox * g[SW] - g[PL] + kx * g[DW];
                        if (iy < 0 || iy >= g[IH] || ix < 0 || ix >= g[IW]) {
                            memset(dst, 0, sizeof(int16_t) * (size_t)c_in);
                            continue;
                        }
                        const int8_t *px = xs + ((size_t)iy * g[IW] + ix) * c_in;
                        for (int c = 0; c < c_in; c++) dst[c] = (int16_t)(px[c] + offset);
                    }
                }
                int oc = 0;
                for (; oc + 4 <= c_out; oc += 4) { /* four independent sums share the window */
                    const int16_t *w0 = w + (size_t)oc * k, *w1 = w0 + k, *w2 = w1 + k,
                                  *w3 = w2 + k;
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    for (int j = 0; j < k; j++) {
                        const int32_t v = col[j];
                        s0 += v * w0[j];
                        s1 += v * w1[j];
                        s2 += v * w2[j];
                        s3 += v * w3[j];
                    }
                    acc[oc] = s0;
                    acc[oc + 1] = s1;
                    acc[oc + 2] = s2;
                    acc[oc + 3] = s3;
                }
                for (; oc < c_out; oc++) {
                    const int16_t *wr = w + (size_t)oc * k;
                    int32_t sum = 0;
                    for (int j = 0; j < k; j++) sum += (int32_t)col[j] * (int32_t)wr[j];
                    acc[oc] = sum;
                }
                stage(acc, c_out, &s, os + ((size_t)oy * g[OW] + ox) * c_out);
            }
        }
    }
    free(col);
    free(acc);
    return 0;
}

/* A binary int8 operator through its 64 Ki-entry result table (kernels/elementwise.py builds it
 * with the operator's own code): out[i] = table[x[i] << 8 | y[i]] on the byte patterns. */
void mf_table2_s8(const uint8_t *x, const uint8_t *y, int64_t n, const int8_t *table,
                  int8_t *out) {
    for (int64_t i = 0; i < n; i++) out[i] = table[(size_t)x[i] << 8 | y[i]];
}

/* The output stage alone, on BLAS accumulators: acc (rows, ch) float32 holding exact integers
 * (|acc| < 2^24) -> out (rows, ch) int8. One pass instead of numpy's several. */
int mf_requant_f32(const float *acc, int64_t rows, int ch, const void *m, const void *b, int mode,
                   int origin, int lo, int hi, int8_t *out) {
    const mf_stage s = {m, b, mode, origin, lo, hi, ch};
    int32_t *buf = (int32_t *)malloc(sizeof(int32_t) * (size_t)ch);
    if (!buf) return -1;
    for (int64_t r = 0; r < rows; r++) {
        const float *a = acc + r * ch;
        for (int c = 0; c < ch; c++) buf[c] = (int32_t)a[c];
        stage(buf, ch, &s, out + r * ch);
    }
    free(buf);
    return 0;
}
