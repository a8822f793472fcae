/* SignalRfft: KISS FFT's real forward transform in the three builds TFLM's signal library
 * compiles (16-bit and 32-bit fixed point, float). Mirrors runtime/kernels/signal_kissfft.py: the
 * recursive decimation is replaced by one input permutation (`order`) and one pass per stage
 * (last factor first), every butterfly rounding and wrapping like the C it reproduces. */
#ifndef MF_SIGNAL_FFT_H
#define MF_SIGNAL_FFT_H

#include "mf_common.h"

typedef struct {
    int32_t rows, in_len, ncfft, num_stages;
    const uint16_t *order;      /* [ncfft]: the complex input each leaf position reads */
    const void *twiddles;       /* [ncfft][2] (re, im) of the transform's type */
    const void *super_twiddles; /* [ncfft / 2][2] */
    const int32_t *stages;      /* [num_stages][3]: radix, m, fstride */
} mf_signal_rfft_params;

/* x: rows of in_len samples (zero-padded to 2 * ncfft); out: rows of ncfft + 1 (re, im) pairs;
 * work: 2 * ncfft values of scratch. */
void mf_signal_rfft_s16(const mf_signal_rfft_params *p, const int16_t *x, int16_t *out,
                        int16_t *work);
void mf_signal_rfft_s32(const mf_signal_rfft_params *p, const int32_t *x, int32_t *out,
                        int32_t *work);
void mf_signal_rfft_f32(const mf_signal_rfft_params *p, const float *x, float *out, float *work);

#endif
