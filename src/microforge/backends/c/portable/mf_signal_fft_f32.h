/* SignalRfft, float build of KISS FFT (see mf_signal_fft.h). */
#ifndef MF_SIGNAL_FFT_F32_H
#define MF_SIGNAL_FFT_F32_H

#include "mf_signal_fft.h"

void mf_signal_rfft_f32(const mf_signal_rfft_params *p, const float *x, float *out, float *work);

#endif
