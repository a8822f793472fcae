#include "mf_signal.h"

void mf_signal_window(const mf_signal_window_params *p, const int16_t *x, int16_t *out) {
    int32_t r, i;
    for (r = 0; r < p->rows; ++r) {
        const int16_t *xr = x + r * p->length;
        int16_t *yr = out + r * p->length;
        for (i = 0; i < p->length; ++i) {
            /* |x * w| <= 2^30: no overflow; the shift is arithmetic (rounds toward -inf). */
            const int32_t v = ((int32_t)xr[i] * (int32_t)p->weights[i]) >> p->shift;
            yr[i] = (int16_t)mf_clamp(v, -32768, 32767);
        }
    }
}

void mf_signal_fft_auto_scale(int32_t size, const int16_t *x, int16_t *out, int32_t *scale) {
    /* The maximum is an int16 as in the portable MaxAbs16: -(-32768) stores -32768, after which
     * the scan goes on from that negative maximum. */
    int16_t max = 0;
    int32_t i, bits;
    for (i = 0; i < size; ++i) {
        const int32_t v = x[i];
        if (v > max) {
            max = (int16_t)v;
        } else if (-v > max) {
            max = mf_wrap16(-v);
        }
    }
    /* A negative maximum is sign-extended: its bit length is 32, like that of 0. */
    bits = 16 - mf_msb32((uint32_t)(int32_t)max) - 1;
    if (bits < 0) {
        bits = 0;
    }
    for (i = 0; i < size; ++i) {
        out[i] = mf_wrap16((int32_t)x[i] * ((int32_t)1 << bits));
    }
    *scale = bits;
}

void mf_signal_energy(const mf_signal_energy_params *p, const int16_t *x, uint32_t *out) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        out[i] = 0;
    }
    for (i = p->start; i < p->end; ++i) {
        const int32_t re = x[2 * i], im = x[2 * i + 1];
        /* each square <= 2^30; their sum wraps like TFLM's int32 (2 * 32768^2 -> 2^31) */
        out[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
    }
}

void mf_signal_filter_bank(const mf_signal_filter_bank_params *p, const uint32_t *x, uint64_t *out) {
    uint64_t weighted = 0, unweighted = 0;
    int32_t c, j;
    for (c = 0; c <= p->channels; ++c) {
        const uint32_t *xc = x + p->freq_starts[c];
        const int16_t *w = p->weights + p->weight_starts[c];
        const int16_t *u = p->unweights + p->weight_starts[c];
        const int32_t width = p->widths[c];
        for (j = 0; j < width; ++j) {
            /* int16 * uint32 fits int64; its conversion is the uint64 product modulo 2^64 */
            weighted += (uint64_t)((int64_t)w[j] * (int64_t)xc[j]);
            unweighted += (uint64_t)((int64_t)u[j] * (int64_t)xc[j]);
        }
        if (c > 0) {
            out[c - 1] = weighted;
        }
        weighted = unweighted;
        unweighted = 0;
    }
}

/* Integer square root rounded to nearest: the floor root is incremented when the remainder
 * exceeds it, except at the largest root of the width used (0xFFFF below 2^32, else 0xFFFFFFFF),
 * as TFLM's Sqrt32 / Sqrt64. */
static uint32_t mf_sqrt64(uint64_t x) {
    const uint64_t cap = (x >> 32) ? 0xFFFFFFFFu : 0xFFFFu;
    uint64_t rem = x, root = 0, bit = (uint64_t)1 << 62;
    while (bit > x) {
        bit >>= 2;
    }
    while (bit) {
        if (rem >= root + bit) {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    if (rem > root && root != cap) {
        ++root;
    }
    return (uint32_t)root;
}

void mf_signal_filter_bank_sqrt(int32_t n, const uint64_t *x, const int32_t *shift, uint32_t *out) {
    const uint32_t s = (uint32_t)*shift & 31u; /* x86-64 masks the shift count */
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = mf_sqrt64(x[i]) >> s;
    }
}

void mf_signal_spectral_subtraction(const mf_signal_spectral_subtraction_params *p,
                                    const uint32_t *x, uint32_t *out, uint32_t *noise_out,
                                    uint32_t *state) {
    int32_t i;
    for (i = 0; i < p->channels; ++i) {
        const int odd = i & 1;
        const uint32_t smoothing = odd ? p->alternate_smoothing : p->smoothing;
        const uint32_t one_minus = odd ? p->alternate_one_minus_smoothing : p->one_minus_smoothing;
        const uint32_t scaled = x[i] << p->smoothing_bits;
        uint32_t noise = (uint32_t)(((uint64_t)scaled * smoothing +
                                     (uint64_t)state[i] * one_minus) >> p->subtraction_bits);
        uint32_t estimate = noise;
        uint32_t floor_value, subtracted;
        if (estimate > scaled) {
            estimate = scaled;
            if (p->clamping) {
                noise = estimate;
            }
        }
        state[i] = noise;
        noise_out[i] = noise;
        floor_value = (uint32_t)(((uint64_t)x[i] * p->min_signal_remaining) >> p->subtraction_bits);
        subtracted = (scaled - estimate) >> p->smoothing_bits;
        out[i] = subtracted > floor_value ? subtracted : floor_value;
    }
}

/* WideDynamicFunction: a cubic segment of the gain table per quarter octave of x; the int32
 * intermediate products wrap as in TFLM's build (done on uint32). */
static int16_t mf_pcan_gain(uint32_t x, const int16_t *lut) {
    int32_t interval, frac, result;
    const int16_t *seg;
    if (x <= 2) {
        return lut[x];
    }
    interval = mf_msb32(x);
    seg = lut + 4 * interval - 6;
    frac = (int32_t)(((interval < 11) ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FFu);
    result = ((int32_t)seg[2] * frac) >> 5;
    result = mf_wrap_add(result, (int32_t)seg[1] * 32);
    result = (int32_t)((uint32_t)result * (uint32_t)frac);
    result = mf_wrap_add(result, 1 << 14) >> 15;
    return mf_wrap16(result + seg[0]);
}

void mf_signal_pcan(const mf_signal_pcan_params *p, const uint32_t *x, const uint32_t *noise,
                    uint32_t *out) {
    int32_t i;
    for (i = 0; i < p->channels; ++i) {
        const uint32_t gain = (uint32_t)(int32_t)mf_pcan_gain(noise[i], p->lut);
        const uint32_t snr = (uint32_t)(((uint64_t)x[i] * gain) >> p->snr_shift);
        /* shrink: snr^2 / 4 below 2 (12 fractional bits in, 6 out), else snr - 1 */
        out[i] = snr < 8192u ? (snr * snr) >> 20 : (snr >> 6) - 64u;
    }
}

/* Log32 for x > 1: log2 as integer part plus a piecewise-linear fraction (128 segments), then
 * scaled to the natural log (45426 / 2^16) and by out_scale (uint32, wrapping). */
static uint32_t mf_log32(uint32_t x, uint32_t out_scale, const uint16_t *lut) {
    const int32_t integer = mf_msb32(x) - 1;
    uint32_t frac = x - ((uint32_t)1 << integer);
    uint32_t seg, fraction, log2, loge;
    int32_t c0, rel;
    frac = integer < 16 ? frac << (16 - integer) : frac >> (integer - 16);
    seg = frac >> 9;
    c0 = lut[seg];
    rel = ((int32_t)lut[seg + 1] - c0) * (int32_t)(frac & 511u);
    rel >>= 16;
    fraction = frac + (uint32_t)c0 + (uint32_t)rel;
    log2 = ((uint32_t)integer << 16) + fraction;
    loge = (uint32_t)(((uint64_t)45426 * log2 + 32768u) >> 16);
    return (out_scale * loge + 32768u) >> 16;
}

void mf_signal_filter_bank_log(const mf_signal_log_params *p, const uint32_t *x, int16_t *out) {
    int32_t i;
    for (i = 0; i < p->channels; ++i) {
        const uint32_t v = x[i] << p->correction_bits;
        if (v > 1) {
            const uint32_t l = mf_log32(v, p->output_scale, p->lut);
            out[i] = (int16_t)(l < 32767u ? l : 32767u);
        } else {
            out[i] = 0;
        }
    }
}
