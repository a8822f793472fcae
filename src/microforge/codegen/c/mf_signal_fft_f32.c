#include "mf_signal_fft_f32.h"

/* float: C_FIXDIV is a no-op */
MF_FFT_DEFINE(f32, float, 0, 0, 0, 0)
