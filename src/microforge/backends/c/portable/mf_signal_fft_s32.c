#include "mf_signal_fft_s32.h"

/* C_FIXDIV divisors: SAMP_MAX / radix for radix 2, 3, 4, 5 */
MF_FFT_DEFINE(s32, int32_t, 1073741823, 715827882, 536870911, 429496729)

void mf_signal_rfft_s32(const mf_signal_rfft_params *p, const int32_t *x, int32_t *out, int32_t *work) {
    mf_s32_rfft(p, x, out, work);
}
