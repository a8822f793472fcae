/* x86 SSE2 variants of the portable kernels (x86_sse2/), for hosts whose compiler targets SSE2
 * (every x86-64, without any -march) unless built with -DMF_NO_SIMD. They compute exactly the
 * values of the portable C (the tests build every kernel both ways).
 *
 * x86_sse2/<stem>_sse2.h is included at the end of portable/<stem>.c. It defines the functions
 * listed below, and the portable file leaves out its own definition of each of them
 * (#ifndef MF_VARIANT_<FUNCTION>): a kernel, or the loops a portable kernel is built from. */
#ifndef MF_X86_SSE2_H
#define MF_X86_SSE2_H

#if defined(__SSE2__) && !defined(MF_NO_SIMD)
#include <emmintrin.h>
#define MF_SIMD_SSE2 1

/* mf_activations_sse2.h */
#define MF_VARIANT_LOGISTIC_F32 1
#define MF_VARIANT_TANH_F32 1
/* mf_conv_sse2.h (CONV_2D without the scratch and depthwise with a depth multiplier other than 1
 * call the portable loops) */
#define MF_VARIANT_CONV_S8 1
#define MF_VARIANT_DEPTHWISE_CONV_S8 1
#define MF_CONV_PORTABLE_FALLBACK 1
/* mf_fully_connected_sse2.h */
#define MF_VARIANT_MATVEC_F32 1
#define MF_VARIANT_FULLY_CONNECTED_F32 1
#define MF_VARIANT_FULLY_CONNECTED_S8 1 /* and mf_fc_s8_accumulate */
/* mf_lstm_sse2.h */
#define MF_VARIANT_LSTM_F32 1
/* mf_signal_sse2.h */
#define MF_VARIANT_SIGNAL_WINDOW 1
#define MF_VARIANT_SIGNAL_FFT_AUTO_SCALE 1 /* its scans: min / max, last -32768, the shift */
#define MF_VARIANT_SIGNAL_ENERGY 1 /* its loop over the pairs */
#define MF_VARIANT_SIGNAL_FILTER_BANK 1
#define MF_VARIANT_SIGNAL_FILTER_BANK_SQRT 1 /* its loop and the floor root */
#define MF_VARIANT_SIGNAL_SPECTRAL_SUBTRACTION 1
#define MF_VARIANT_SIGNAL_FILTER_BANK_LOG 1
/* mf_signal_fft_s16_sse2.h */
#define MF_VARIANT_SIGNAL_RFFT_S16 1
#endif

#endif
