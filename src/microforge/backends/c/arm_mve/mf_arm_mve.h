/* Arm Helium (M-profile Vector Extension, MVE) variants of the portable kernels (arm_mve/), for
 * cores with integer MVE (Cortex-M55, M85: __ARM_FEATURE_MVE bit 0) unless built with -DMF_NO_MVE
 * or -DMF_NO_DSP (--no-dsp builds the portable C everywhere). They use the ACLE MVE intrinsics
 * (arm_mve.h) and return the same bits as the portable C.
 *
 * arm_mve/<stem>_mve.h is included at the end of portable/<stem>.c, after the DSP variant header,
 * and takes over the functions listed below from it (on an MVE core the DSP extension is there
 * too: MF_USE_DSP stays 1, so the DSP kernels' static helpers serve the cases the MVE kernels
 * leave to them, with the portable data layout). */
#ifndef MF_ARM_MVE_H
#define MF_ARM_MVE_H

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && MF_USE_DSP && !defined(MF_NO_MVE)
#include <arm_mve.h>
#define MF_USE_MVE 1
/* the functions below replace the DSP variants' (the same MF_VARIANT_* guards of the portable C) */
/* mf_conv_mve.h */
#define MF_VARIANT_CONV_S8 1
#define MF_VARIANT_DEPTHWISE_CONV_S8 1
/* mf_fully_connected_mve.h */
#define MF_VARIANT_FULLY_CONNECTED_S8 1
#else
#define MF_USE_MVE 0
#endif

#endif
