#include "mf_signal_fft_s16.h"

/* C_FIXDIV divisors: SAMP_MAX / radix for radix 2, 3, 4, 5 */
MF_FFT_DEFINE(s16, int16_t, 16383, 10922, 8191, 6553)
