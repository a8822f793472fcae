#include "mf_signal.h"

/* Parts of the kernels below that the x86 SSE2 variant (x86_sse2/mf_signal_sse2.h, included at
 * the end) defines instead, each left out here under its kernel's MF_VARIANT_SIGNAL_* macro. */
static void mf_min_max16(const int16_t *x, int32_t n, int32_t *hi, int32_t *lo);
static int32_t mf_last_min16(const int16_t *x, int32_t n);
static int32_t mf_rising_negative_end(const int16_t *x, int32_t k, int32_t n);
static void mf_shift_left16(const int16_t *x, int16_t *out, int32_t n, int32_t bits);
static void mf_energy_pairs(const int16_t *pairs, uint32_t *energy, uint32_t *energy_end);
static int mf_filter_bank_blocks(const mf_signal_filter_bank_params *p, const uint32_t *x,
                                 uint64_t *out);
static uint64_t mf_floor_sqrt64(uint64_t x);

/* One windowed value: |x * w| <= 2^30, no overflow; the shift is arithmetic (rounds toward
 * -inf); the result saturates to int16. */
static inline int16_t mf_window_value(int16_t x, int16_t w, int32_t shift) {
    const int32_t v = ((int32_t)x * (int32_t)w) >> shift;
    return (int16_t)mf_clamp(v, -32768, 32767);
}

#ifndef MF_VARIANT_SIGNAL_WINDOW
void mf_signal_window(const mf_signal_window_params *p, const int16_t *x, int16_t *out) {
    /* locals: stores through `out` could alias the params */
    const int32_t rows = p->rows, n = p->length, shift = p->shift;
    const int16_t *weights = p->weights;
    int32_t r, i;
    for (r = 0; r < rows; ++r) {
        const int16_t *xr = x + r * n;
        int16_t *yr = out + r * n;
        for (i = 0; i < n; ++i) {
            yr[i] = mf_window_value(xr[i], weights[i], shift);
        }
    }
}
#endif

#ifndef MF_VARIANT_SIGNAL_FFT_AUTO_SCALE
/* The largest and smallest of x[0..n) and 0. */
static void mf_min_max16(const int16_t *x, int32_t n, int32_t *hi, int32_t *lo) {
    int32_t h = 0, l = 0, i;
    for (i = 0; i < n; ++i) {
        h = MF_MAX(h, (int32_t)x[i]);
        l = MF_MIN(l, (int32_t)x[i]);
    }
    *hi = h;
    *lo = l;
}

/* The index of the last -32768 in x[0..n) (there is one). */
static int32_t mf_last_min16(const int16_t *x, int32_t n) {
    int32_t i;
    for (i = n - 1; x[i] != -32768; --i) {
    }
    return i;
}

/* The first k' >= k (k >= 1) where x[k'-1] < x[k'] < 0 fails, or n. */
static int32_t mf_rising_negative_end(const int16_t *x, int32_t k, int32_t n) {
    for (; k < n && x[k - 1] < x[k] && x[k] < 0; ++k) {
    }
    return k;
}

/* out[i] = x[i] << bits, wrapped to int16. */
static void mf_shift_left16(const int16_t *x, int16_t *out, int32_t n, int32_t bits) {
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = mf_wrap16((int32_t)((uint32_t)(int32_t)x[i] << bits));
    }
}
#endif

/* TFLM's portable MaxAbs16: a sequential scan keeping an int16 maximum m from 0, where v > m
 * gives m = v, else -v > m gives m = (int16)-v. So -32768 sets m = -32768 whatever m was; from
 * a negative m, v > m gives v and any other v gives -v (> 0 unless v is -32768); from m >= 0
 * each step is m = MAX(m, |v|) for v != -32768. Hence, without -32768 in x: MAX(0, largest,
 * -smallest). With it: after its last occurrence q, m follows the values while they rise and
 * stay negative (m = x[k-1] before index k); at the first k breaking that, m = x[k] if
 * x[k] >= 0, else -x[k] (> 0); then the maximum of m and |v| over the rest. */
static int32_t mf_max_abs16(int32_t size, const int16_t *x) {
    int32_t hi, lo, m, k;
    mf_min_max16(x, size, &hi, &lo);
    if (lo != -32768) {
        return MF_MAX(hi, -lo);
    }
    k = mf_rising_negative_end(x, mf_last_min16(x, size) + 1, size);
    if (k == size) {
        return x[k - 1];
    }
    m = x[k] >= 0 ? x[k] : -x[k];
    mf_min_max16(x + k + 1, size - k - 1, &hi, &lo);
    return MF_MAX(m, MF_MAX(hi, -lo));
}

void mf_signal_fft_auto_scale(int32_t size, const int16_t *x, int16_t *out, int32_t *scale) {
    const int32_t max = mf_max_abs16(size, x);
    /* A negative maximum is sign-extended: its bit length is 32, like that of 0. */
    int32_t bits = 16 - mf_msb32((uint32_t)max) - 1;
    if (bits < 0) {
        bits = 0;
    }
    mf_shift_left16(x, out, size, bits);
    *scale = bits;
}

#ifndef MF_VARIANT_SIGNAL_ENERGY
/* re * re + im * im of each (re, im) pair into energy[0 .. energy_end - energy). */
static void mf_energy_pairs(const int16_t *pairs, uint32_t *energy, uint32_t *energy_end) {
    /* (pointer loops: gcc -O3 -flto misjudged index tail loops here as overflowing) */
    for (; energy < energy_end; ++energy, pairs += 2) {
        const int32_t re = pairs[0], im = pairs[1];
        /* each square <= 2^30; their sum wraps like TFLM's int32 (2 * 32768^2 -> 2^31) */
        *energy = (uint32_t)(re * re) + (uint32_t)(im * im);
    }
}
#endif

void mf_signal_energy(const mf_signal_energy_params *p, const int16_t *x, uint32_t *out) {
    const int32_t start = p->start, n = p->end > start ? p->end - start : 0;
    const int16_t *pairs = x + 2 * start;
    uint32_t *energy = out + start;
    uint32_t *const energy_end = energy + n;
    int32_t i;
    for (i = 0; i < start; ++i) {
        out[i] = 0;
    }
    for (i = start + n; i < p->size; ++i) {
        out[i] = 0;
    }
    mf_energy_pairs(pairs, energy, energy_end);
}

#ifndef MF_VARIANT_SIGNAL_FILTER_BANK
/* The filter bank of tables of blocks (p->blocks), where a variant has a loop for them (1 when it
 * wrote out); here they take the loop of any table. */
static int mf_filter_bank_blocks(const mf_signal_filter_bank_params *p, const uint32_t *x,
                                 uint64_t *out) {
    (void)p;
    (void)x;
    (void)out;
    return 0;
}
#endif

void mf_signal_filter_bank(const mf_signal_filter_bank_params *p, const uint32_t *x, uint64_t *out) {
    uint64_t weighted = 0, unweighted = 0;
    int32_t c, j;
    if (p->blocks && mf_filter_bank_blocks(p, x, out)) {
        return;
    }
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
    const uint64_t root = mf_floor_sqrt64(x);
    /* the floor root is at most the cap, so capping the rounded root skips the increment there */
    const uint64_t rounded = root + (x - root * root > root);
    return (uint32_t)(rounded < cap ? rounded : cap);
}

#ifndef MF_VARIANT_SIGNAL_FILTER_BANK_SQRT
/* floor(sqrt(x)) for any uint64 (at most 0xFFFFFFFF): digit by digit from the highest power of 4
 * not above x (found from the bit length). */
static uint64_t mf_floor_sqrt64(uint64_t x) {
    const uint32_t high = (uint32_t)(x >> 32);
    const int32_t msb = high ? 63 - mf_clz32(high) : 31 - mf_clz32((uint32_t)x);
    uint64_t rem = x, root = 0, bit;
    if (x == 0) {
        return 0;
    }
    bit = (uint64_t)1 << (msb & ~1);
    while (bit) {
        if (rem >= root + bit) {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

void mf_signal_filter_bank_sqrt(int32_t n, const uint64_t *x, const int32_t *shift, uint32_t *out) {
    const uint32_t s = (uint32_t)*shift & 31u; /* x86-64 masks the shift count */
    int32_t i;
    for (i = 0; i < n; ++i) {
        out[i] = mf_sqrt64(x[i]) >> s;
    }
}
#endif

/* Channels i.. of the spectral subtraction. */
static void mf_spectral_subtraction_from(const mf_signal_spectral_subtraction_params *p,
                                         const uint32_t *x, uint32_t *out, uint32_t *noise_out,
                                         uint32_t *state, int32_t i) {
    for (; i < p->channels; ++i) {
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

#ifndef MF_VARIANT_SIGNAL_SPECTRAL_SUBTRACTION
void mf_signal_spectral_subtraction(const mf_signal_spectral_subtraction_params *p,
                                    const uint32_t *x, uint32_t *out, uint32_t *noise_out,
                                    uint32_t *state) {
    mf_spectral_subtraction_from(p, x, out, noise_out, state, 0);
}
#endif

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
    /* x shifted to 11 bits (left below 11, truncated above), its top bit dropped: the 10 bits
     * under the leading one, from x normalised to bit 31 */
    frac = (int32_t)(((x << (32 - interval)) >> 21) & 0x3FFu);
    result = ((int32_t)seg[2] * frac) >> 5;
    result = mf_wrap_add(result, (int32_t)seg[1] * 32);
    result = (int32_t)((uint32_t)result * (uint32_t)frac);
    result = mf_wrap_add(result, 1 << 14) >> 15;
    return mf_wrap16(result + seg[0]);
}

void mf_signal_pcan(const mf_signal_pcan_params *p, const uint32_t *x, const uint32_t *noise,
                    uint32_t *out) {
    /* locals: stores through `out` could alias the int32 fields */
    const int32_t channels = p->channels, shift = p->snr_shift;
    const int16_t *lut = p->lut;
    int32_t i;
    for (i = 0; i < channels; ++i) {
        const uint32_t gain = (uint32_t)(int32_t)mf_pcan_gain(noise[i], lut);
        const uint32_t snr = (uint32_t)(((uint64_t)x[i] * gain) >> shift);
        /* shrink: snr^2 / 4 below 2 (12 fractional bits in, 6 out), else snr - 1 */
        out[i] = snr < 8192u ? (snr * snr) >> 20 : (snr >> 6) - 64u;
    }
}

/* Log32 for x > 1: log2 as integer part plus a piecewise-linear fraction (128 segments), then
 * scaled to the natural log (45426 / 2^16) and by out_scale (uint32, wrapping). */
static uint32_t mf_log32(uint32_t x, uint32_t out_scale, const uint16_t *lut) {
    const int32_t lead = mf_clz32(x), integer = 31 - lead;
    /* the bits under the leading one as 16 bits (shifted left below 2^16, truncated above),
     * from x normalised to bit 31 */
    const uint32_t frac = (x << lead << 1) >> 16;
    const uint32_t seg = frac >> 9;
    const int32_t c0 = lut[seg];
    const int32_t rel = (((int32_t)lut[seg + 1] - c0) * (int32_t)(frac & 511u)) >> 16;
    const uint32_t fraction = frac + (uint32_t)c0 + (uint32_t)rel;
    const uint32_t log2 = ((uint32_t)integer << 16) + fraction;
    const uint32_t loge = (uint32_t)(((uint64_t)45426 * log2 + 32768u) >> 16);
    return (out_scale * loge + 32768u) >> 16;
}

/* Channels i .. channels - 1 of the log: min(Log32(x << bits), 32767), 0 for values <= 1. */
static void mf_log_from(const uint32_t *x, int16_t *out, int32_t i, int32_t channels,
                        int32_t bits, uint32_t scale, const uint16_t *lut) {
    for (; i < channels; ++i) {
        const uint32_t v = x[i] << bits;
        if (v > 1) {
            const uint32_t l = mf_log32(v, scale, lut);
            out[i] = (int16_t)(l < 32767u ? l : 32767u);
        } else {
            out[i] = 0;
        }
    }
}

#ifndef MF_VARIANT_SIGNAL_FILTER_BANK_LOG
void mf_signal_filter_bank_log(const mf_signal_log_params *p, const uint32_t *x, int16_t *out) {
    mf_log_from(x, out, 0, p->channels, p->correction_bits, p->output_scale, p->lut);
}
#endif

/* The x86 SSE2 versions of the kernels and loops left out above (MF_VARIANT_SIGNAL_*). */
#include "mf_signal_sse2.h"
