/* SignalRfft: KISS FFT's real forward transform in its 16-bit fixed-point build, as TFLM's
 * signal library compiles it. Mirrors runtime/kernels/signal_kissfft.py: the recursive
 * decimation is replaced by one input permutation (`order`) and one pass per stage (last factor
 * first), every butterfly rounding and wrapping like the C it reproduces. */
#ifndef MF_SIGNAL_FFT_H
#define MF_SIGNAL_FFT_H

#include "mf_common.h"

typedef struct {
    int32_t rows, in_len, ncfft, num_stages;
    const uint16_t *order;         /* [ncfft]: the complex input each leaf position reads */
    const int16_t *twiddles;       /* [ncfft][2] (re, im) */
    const int16_t *super_twiddles; /* [ncfft / 2][2] */
    const int32_t *stages;         /* [num_stages][3]: radix, m, fstride */
} mf_signal_rfft_s16_params;

/* x: rows of in_len samples (zero-padded to 2 * ncfft); out: rows of ncfft + 1 (re, im) pairs;
 * work: 2 * ncfft int16 of scratch. */
void mf_signal_rfft_s16(const mf_signal_rfft_s16_params *p, const int16_t *x, int16_t *out,
                        int16_t *work);

#endif
