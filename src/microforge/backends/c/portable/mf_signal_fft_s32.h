/* SignalRfft, int32_t build of KISS FFT (see mf_signal_fft.h). */
#ifndef MF_SIGNAL_FFT_S32_H
#define MF_SIGNAL_FFT_S32_H

#include "mf_signal_fft.h"

void mf_signal_rfft_s32(const mf_signal_rfft_params *p, const int32_t *x, int32_t *out, int32_t *work);

#endif
