/* FULLY_CONNECTED int8 with Helium (MVE, arm_mve/): included at the end of
 * portable/mf_fully_connected.c after the DSP variant. Four weight rows per pass over the int8
 * input, sixteen products per VMLADAVA (the constant already holds the bias and the input offset
 * times the row sums, as in the portable kernel), the four sums requantized as one vector. */
#ifndef MF_FULLY_CONNECTED_MVE_H
#define MF_FULLY_CONNECTED_MVE_H

#include "mf_dot_mve.h"
#include "mf_fully_connected.h"

#if MF_USE_MVE

void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output,
                           int16_t *row) {
    const int32_t accum = p->accum;
    int32_t r, o;
    (void)row;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + (size_t)r * accum;
        int8_t *out = output + (size_t)r * p->depth;
        for (o = 0; o < p->depth; o += 4) {
            const int32_t n = MF_MIN(4, p->depth - o);
            int32_t a[4] = {0, 0, 0, 0};
            if (n == 4) {
                memcpy(a, p->constant + o, sizeof a);
                mf_mve_dot4(x, p->weights + (size_t)o * accum, accum, accum, a);
            } else {
                int32_t j;
                for (j = 0; j < n; ++j) {
                    int32_t b[4] = {p->constant[o + j], 0, 0, 0};
                    mf_mve_dot4(x, p->weights + (size_t)(o + j) * accum, 0, accum, b);
                    a[j] = b[0];
                }
            }
            if (p->channel_mask) {
                mf_mve_store4(vldrwq_s32(a), p->multiplier + o, p->left_shift + o,
                              p->right_shift + o, p->output_offset, p->act_min, p->act_max,
                              out + o, n);
            } else {
                const int32_t m[4] = {p->multiplier[0], p->multiplier[0], p->multiplier[0],
                                      p->multiplier[0]};
                const int32_t ls[4] = {p->left_shift[0], p->left_shift[0], p->left_shift[0],
                                       p->left_shift[0]};
                const int32_t rs[4] = {p->right_shift[0], p->right_shift[0], p->right_shift[0],
                                       p->right_shift[0]};
                mf_mve_store4(vldrwq_s32(a), m, ls, rs, p->output_offset, p->act_min, p->act_max,
                              out + o, n);
            }
        }
    }
}

/* A slice of the input against the same slice of every weight row, four rows per pass. */
void mf_fc_s8_accumulate(const mf_fc_s8_params *p, const int8_t *x, int32_t k0, int32_t n,
                         int16_t *row, int32_t *acc) {
    const int32_t accum = p->accum;
    const int8_t *w = p->weights + k0;
    int32_t o = 0;
    (void)row;
    for (; o + 4 <= p->depth; o += 4) {
        mf_mve_dot4(x, w + (size_t)o * accum, accum, n, acc + o);
    }
    for (; o < p->depth; ++o) {
        int32_t b[4] = {acc[o], 0, 0, 0};
        mf_mve_dot4(x, w + (size_t)o * accum, 0, n, b);
        acc[o] = b[0];
    }
}
#endif

#endif
