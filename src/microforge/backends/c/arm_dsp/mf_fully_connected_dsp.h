/* FULLY_CONNECTED int8 with the Arm DSP extension (arm_dsp/): included at the end of
 * portable/mf_fully_connected.c, whose fc_requantize it shares, on cores that have the extension.
 * Two weight rows per pass share the loads of the int8 input (no int16 copy), their dot products
 * from SMLAD (mf_dot_dsp.h). */
#ifndef MF_FULLY_CONNECTED_DSP_H
#define MF_FULLY_CONNECTED_DSP_H

#include "mf_dot_dsp.h"
#include "mf_fully_connected.h"

#if MF_USE_DSP && !MF_USE_MVE /* on Helium cores arm_mve/mf_fully_connected_mve.h */

void mf_fully_connected_s8(const mf_fc_s8_params *p, const int8_t *input, int8_t *output,
                           int16_t *row) {
    const int32_t accum = p->accum;
    int32_t r, o;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + (size_t)r * accum;
        int8_t *out = output + (size_t)r * p->depth;
        o = 0;
        (void)row;
        for (; o + 2 <= p->depth; o += 2) {
            int32_t acc[2] = {0, 0};
            const int8_t *w = p->weights + (size_t)o * accum;
            mf_dsp_dot2_s8(x, w, w + accum, accum, acc);
            out[o] = fc_requantize(p, acc[0], o);
            out[o + 1] = fc_requantize(p, acc[1], o + 1);
        }
        for (; o < p->depth; ++o) {
            out[o] = fc_requantize(p, mf_dsp_dot_s8(x, p->weights + (size_t)o * accum, accum, 0),
                                   o);
        }
    }
}

/* A slice of the input against the same slice of every weight row, two rows per pass. */
void mf_fc_s8_accumulate(const mf_fc_s8_params *p, const int8_t *x, int32_t k0, int32_t n,
                         int16_t *row, int32_t *acc) {
    const int32_t accum = p->accum;
    const int8_t *w = p->weights + k0;
    int32_t o = 0;
    (void)row;
    for (; o + 2 <= p->depth; o += 2) {
        const int8_t *w0 = w + (size_t)o * accum;
        mf_dsp_dot2_s8(x, w0, w0 + accum, n, acc + o);
    }
    for (; o < p->depth; ++o) {
        acc[o] = mf_dsp_dot_s8(x, w + (size_t)o * accum, n, acc[o]);
    }
}
#endif

#endif
