/* TFLM signal-library operators of an audio front end (window, FFT auto scale, energy, mel
 * filter bank, square root, spectral subtraction, PCAN, log). Mirror
 * runtime/kernels/signal_window.py, signal_fft.py, signal_filter_bank.py and signal_noise.py,
 * which reproduce TFLM's signal/src. The FFT is in mf_signal_fft.h / mf_signal_fft_<type>.c. */
#ifndef MF_SIGNAL_H
#define MF_SIGNAL_H

#include "mf_common.h"

/* Bit length of x; 32 for x == 0 (MostSignificantBit32 of TFLM's GCC build). */
static inline int32_t mf_msb32(uint32_t x) {
    return x ? 32 - mf_clz32(x) : 32;
}

/* Two's complement wrap of an int32 value to int16, without implementation-defined casts. */
static inline int16_t mf_wrap16(int32_t v) {
    return (int16_t)((int32_t)(((uint32_t)v & 0xFFFFu) ^ 0x8000u) - 0x8000);
}

/* SignalWindow: out = saturate_int16((x * w) >> shift) over rows of `length`. */
typedef struct {
    int32_t rows, length, shift;
    const int16_t *weights; /* [length] */
} mf_signal_window_params;

void mf_signal_window(const mf_signal_window_params *p, const int16_t *x, int16_t *out);

/* SignalFftAutoScale: the first `size` values shifted left by scale (returned in *scale). */
void mf_signal_fft_auto_scale(int32_t size, const int16_t *x, int16_t *out, int32_t *scale);

/* SignalEnergy: re^2 + im^2 of pairs start..end-1; the other `size` outputs are 0. */
typedef struct {
    int32_t size, start, end;
} mf_signal_energy_params;

void mf_signal_energy(const mf_signal_energy_params *p, const int16_t *x, uint32_t *out);

/* SignalFilterBank: channels + 1 uint64 sums (weights over a channel's band, unweights over the
 * previous band); channel 0 is dropped. blocks: the tables suit the SSE2 loop (unsigned 32 x
 * 32-bit products, 4 bins a step): no negative weight or unweight, every width a non-negative
 * multiple of 4, the bands' weights stored one after the other from 0 (as TFLM's table
 * generator pads them). */
typedef struct {
    int32_t channels, blocks;
    const int16_t *weights, *unweights;                       /* [table length] */
    const int16_t *freq_starts, *weight_starts, *widths;      /* [channels + 1] */
} mf_signal_filter_bank_params;

void mf_signal_filter_bank(const mf_signal_filter_bank_params *p, const uint32_t *x, uint64_t *out);

/* SignalFilterBankSquareRoot: Sqrt64(x) >> (shift & 31). */
void mf_signal_filter_bank_sqrt(int32_t n, const uint64_t *x, const int32_t *shift, uint32_t *out);

/* SignalFilterBankSpectralSubtraction; `state` is the noise estimate kept across invokes. */
typedef struct {
    int32_t channels, smoothing_bits, subtraction_bits, clamping;
    uint32_t smoothing, one_minus_smoothing, alternate_smoothing, alternate_one_minus_smoothing;
    uint32_t min_signal_remaining;
} mf_signal_spectral_subtraction_params;

void mf_signal_spectral_subtraction(const mf_signal_spectral_subtraction_params *p,
                                    const uint32_t *x, uint32_t *out, uint32_t *noise_out,
                                    uint32_t *state);

/* SignalPCAN: gain from the noise estimate (piecewise polynomial table), then the shrink. */
typedef struct {
    int32_t channels, snr_shift;
    const int16_t *lut; /* >= 125 entries */
} mf_signal_pcan_params;

void mf_signal_pcan(const mf_signal_pcan_params *p, const uint32_t *x, const uint32_t *noise,
                    uint32_t *out);

/* SignalFilterBankLog: min(Log32(x << correction_bits, output_scale), 32767), 0 for values <= 1. */
typedef struct {
    int32_t channels, correction_bits;
    uint32_t output_scale;
    const uint16_t *lut; /* [129]: 65536 * (log2(1 + i/128) - i/128) */
} mf_signal_log_params;

void mf_signal_filter_bank_log(const mf_signal_log_params *p, const uint32_t *x, int16_t *out);

#endif
