/* SignalRfft, int16_t build of KISS FFT (see mf_signal_fft.h). */
#ifndef MF_SIGNAL_FFT_S16_H
#define MF_SIGNAL_FFT_S16_H

#include "mf_signal_fft.h"

void mf_signal_rfft_s16(const mf_signal_rfft_params *p, const int16_t *x, int16_t *out, int16_t *work);

#endif
