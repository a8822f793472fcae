/* Arm DSP-extension variants of the portable kernels (arm_dsp/), for cores with the 32-bit SIMD
 * multiply-accumulates (Cortex-M4/M7/M33/M55: __ARM_FEATURE_DSP and __ARM_FEATURE_SIMD32) unless
 * built with -DMF_NO_DSP. They use the ACLE intrinsics and return the same bits as the portable C.
 *
 * arm_dsp/<stem>_dsp.h is included at the end of portable/<stem>.c. It defines the functions
 * listed below, and the portable file leaves out its own definition of each of them
 * (#ifndef MF_VARIANT_<FUNCTION>). */
#ifndef MF_ARM_DSP_H
#define MF_ARM_DSP_H

#if defined(__ARM_FEATURE_DSP) && defined(__ARM_FEATURE_SIMD32) && !defined(MF_NO_DSP)
#include <arm_acle.h>
#define MF_USE_DSP 1

/* mf_conv_dsp.h */
#define MF_VARIANT_CONV_S8 1
#define MF_VARIANT_DEPTHWISE_CONV_S8 1
/* mf_fully_connected_dsp.h */
#define MF_VARIANT_FULLY_CONNECTED_S8 1
/* mf_signal_fft_s16_dsp.h */
#define MF_VARIANT_SIGNAL_RFFT_S16 1
#else
#define MF_USE_DSP 0
#endif

#endif
