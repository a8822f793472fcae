#include "mf_signal_fft_f32.h"

/* float: C_FIXDIV is a no-op */
MF_FFT_DEFINE(f32, float, 0, 0, 0, 0)

void mf_signal_rfft_f32(const mf_signal_rfft_params *p, const float *x, float *out, float *work) {
    mf_f32_rfft(p, x, out, work);
}
