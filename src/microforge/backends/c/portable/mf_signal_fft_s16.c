#include "mf_signal_fft_s16.h"

/* C_FIXDIV divisors: SAMP_MAX / radix for radix 2, 3, 4, 5 */
MF_FFT_DEFINE(s16, int16_t, 16383, 10922, 8191, 6553)

#ifndef MF_VARIANT_SIGNAL_RFFT_S16
void mf_signal_rfft_s16(const mf_signal_rfft_params *p, const int16_t *x, int16_t *out,
                        int16_t *work) {
    mf_s16_rfft(p, x, out, work);
}
#endif

/* The variant versions of the transform (MF_VARIANT_SIGNAL_RFFT_S16): x86 SSE2, Arm DSP. */
#include "mf_signal_fft_s16_sse2.h"
#include "mf_signal_fft_s16_dsp.h"
