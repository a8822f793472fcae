#include "mf_signal_fft.h"

#include "mf_signal.h"

/* One complex int16 value; every store into it wraps like KISS FFT's kiss_fft_scalar. */
typedef struct {
    int16_t r, i;
} mf_c16;

/* KISS FFT's sround: add half, arithmetic shift by 15, truncate to int16. The products and sums
 * it rounds stay below 2^31 in magnitude (twiddles are at most 32767). */
static inline int16_t mf_fft_round(int32_t v) {
    return mf_wrap16((v + 16384) >> 15);
}

static inline int16_t mf_fft_smul(int32_t a, int32_t b) {
    return mf_fft_round(a * b);
}

static inline mf_c16 mf_c16_load(const int16_t *z, int32_t k) {
    mf_c16 c;
    c.r = z[2 * k];
    c.i = z[2 * k + 1];
    return c;
}

static inline void mf_c16_store(int16_t *z, int32_t k, int32_t r, int32_t i) {
    z[2 * k] = mf_wrap16(r);
    z[2 * k + 1] = mf_wrap16(i);
}

static inline mf_c16 mf_c16_make(int32_t r, int32_t i) {
    mf_c16 c;
    c.r = mf_wrap16(r);
    c.i = mf_wrap16(i);
    return c;
}

static inline mf_c16 mf_c16_add(mf_c16 a, mf_c16 b) {
    return mf_c16_make(a.r + b.r, a.i + b.i);
}

static inline mf_c16 mf_c16_sub(mf_c16 a, mf_c16 b) {
    return mf_c16_make(a.r - b.r, a.i - b.i);
}

/* C_FIXDIV: multiply by SAMP_MAX / radix (`d`) with rounding. */
static inline mf_c16 mf_c16_fixdiv(mf_c16 a, int32_t d) {
    mf_c16 c;
    c.r = mf_fft_smul(a.r, d);
    c.i = mf_fft_smul(a.i, d);
    return c;
}

/* C_MUL by twiddle `k` of the table. */
static inline mf_c16 mf_c16_mul(mf_c16 a, const int16_t *tw, int32_t k) {
    const int32_t tr = tw[2 * k], ti = tw[2 * k + 1];
    mf_c16 c;
    c.r = mf_fft_round((int32_t)a.r * tr - (int32_t)a.i * ti);
    c.i = mf_fft_round((int32_t)a.r * ti + (int32_t)a.i * tr);
    return c;
}

static void mf_bfly2(int16_t *z, const int16_t *tw, int32_t fstride, int32_t m) {
    int32_t k;
    for (k = 0; k < m; ++k) {
        const mf_c16 a = mf_c16_fixdiv(mf_c16_load(z, k), 16383);
        const mf_c16 t = mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + m), 16383), tw, k * fstride);
        mf_c16_store(z, k + m, a.r - t.r, a.i - t.i);
        mf_c16_store(z, k, a.r + t.r, a.i + t.i);
    }
}

static void mf_bfly3(int16_t *z, const int16_t *tw, int32_t fstride, int32_t m) {
    const int32_t epi3 = tw[2 * (fstride * m) + 1];
    int32_t k;
    for (k = 0; k < m; ++k) {
        const mf_c16 a0 = mf_c16_fixdiv(mf_c16_load(z, k), 10922);
        const mf_c16 s1 = mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + m), 10922), tw, k * fstride);
        const mf_c16 s2 =
            mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + 2 * m), 10922), tw, 2 * k * fstride);
        const mf_c16 s3 = mf_c16_add(s1, s2);
        const mf_c16 s0 = mf_c16_sub(s1, s2);
        const mf_c16 g = mf_c16_make(a0.r - (s3.r >> 1), a0.i - (s3.i >> 1));
        const int32_t er = mf_fft_smul(s0.r, epi3), ei = mf_fft_smul(s0.i, epi3);
        mf_c16_store(z, k, a0.r + s3.r, a0.i + s3.i);
        mf_c16_store(z, k + 2 * m, g.r + ei, g.i - er);
        mf_c16_store(z, k + m, g.r - ei, g.i + er);
    }
}

static void mf_bfly4(int16_t *z, const int16_t *tw, int32_t fstride, int32_t m) {
    int32_t k;
    for (k = 0; k < m; ++k) {
        const mf_c16 a0 = mf_c16_fixdiv(mf_c16_load(z, k), 8191);
        const mf_c16 s0 = mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + m), 8191), tw, k * fstride);
        const mf_c16 s1 =
            mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + 2 * m), 8191), tw, 2 * k * fstride);
        const mf_c16 s2 =
            mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + 3 * m), 8191), tw, 3 * k * fstride);
        const mf_c16 s5 = mf_c16_sub(a0, s1);
        const mf_c16 f0 = mf_c16_add(a0, s1);
        const mf_c16 s3 = mf_c16_add(s0, s2);
        const mf_c16 s4 = mf_c16_sub(s0, s2);
        mf_c16_store(z, k + 2 * m, f0.r - s3.r, f0.i - s3.i);
        mf_c16_store(z, k, f0.r + s3.r, f0.i + s3.i);
        mf_c16_store(z, k + m, s5.r + s4.i, s5.i - s4.r);
        mf_c16_store(z, k + 3 * m, s5.r - s4.i, s5.i + s4.r);
    }
}

static void mf_bfly5(int16_t *z, const int16_t *tw, int32_t fstride, int32_t m) {
    const int32_t yar = tw[2 * (fstride * m)], yai = tw[2 * (fstride * m) + 1];
    const int32_t ybr = tw[2 * (2 * fstride * m)], ybi = tw[2 * (2 * fstride * m) + 1];
    int32_t k;
    for (k = 0; k < m; ++k) {
        const mf_c16 a0 = mf_c16_fixdiv(mf_c16_load(z, k), 6553);
        const mf_c16 s1 = mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + m), 6553), tw, k * fstride);
        const mf_c16 s2 =
            mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + 2 * m), 6553), tw, 2 * k * fstride);
        const mf_c16 s3 =
            mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + 3 * m), 6553), tw, 3 * k * fstride);
        const mf_c16 s4 =
            mf_c16_mul(mf_c16_fixdiv(mf_c16_load(z, k + 4 * m), 6553), tw, 4 * k * fstride);
        const mf_c16 s7 = mf_c16_add(s1, s4), s10 = mf_c16_sub(s1, s4);
        const mf_c16 s8 = mf_c16_add(s2, s3), s9 = mf_c16_sub(s2, s3);
        /* sums of wrapped terms: only their value modulo 2^16 matters */
        const int32_t s5r = a0.r + mf_fft_smul(s7.r, yar) + mf_fft_smul(s8.r, ybr);
        const int32_t s5i = a0.i + mf_fft_smul(s7.i, yar) + mf_fft_smul(s8.i, ybr);
        const int32_t s6r = mf_fft_smul(s10.i, yai) + mf_fft_smul(s9.i, ybi);
        const int32_t s6i = -mf_fft_smul(s10.r, yai) - mf_fft_smul(s9.r, ybi);
        const int32_t s11r = a0.r + mf_fft_smul(s7.r, ybr) + mf_fft_smul(s8.r, yar);
        const int32_t s11i = a0.i + mf_fft_smul(s7.i, ybr) + mf_fft_smul(s8.i, yar);
        const int32_t s12r = mf_fft_smul(s9.i, yai) - mf_fft_smul(s10.i, ybi);
        const int32_t s12i = mf_fft_smul(s10.r, ybi) - mf_fft_smul(s9.r, yai);
        mf_c16_store(z, k, a0.r + s7.r + s8.r, a0.i + s7.i + s8.i);
        mf_c16_store(z, k + m, s5r - s6r, s5i - s6i);
        mf_c16_store(z, k + 2 * m, s11r + s12r, s11i + s12i);
        mf_c16_store(z, k + 3 * m, s11r - s12r, s11i - s12i);
        mf_c16_store(z, k + 4 * m, s5r + s6r, s5i + s6i);
    }
}

/* kiss_fft of the packed input (pairs of samples as complex values) into z. */
static void mf_fft_s16(const mf_signal_rfft_s16_params *p, const int16_t *x, int16_t *z) {
    const int32_t n = p->ncfft;
    int32_t j, s, b;
    for (j = 0; j < n; ++j) {
        const int32_t src = 2 * (int32_t)p->order[j];
        z[2 * j] = src < p->in_len ? x[src] : 0;
        z[2 * j + 1] = src + 1 < p->in_len ? x[src + 1] : 0;
    }
    for (s = 0; s < p->num_stages; ++s) {
        const int32_t radix = p->stages[3 * s], m = p->stages[3 * s + 1];
        const int32_t fstride = p->stages[3 * s + 2];
        for (b = 0; b < fstride; ++b) {
            int16_t *block = z + 2 * b * radix * m;
            switch (radix) {
            case 2: mf_bfly2(block, p->twiddles, fstride, m); break;
            case 3: mf_bfly3(block, p->twiddles, fstride, m); break;
            case 4: mf_bfly4(block, p->twiddles, fstride, m); break;
            default: mf_bfly5(block, p->twiddles, fstride, m); break;
            }
        }
    }
}

void mf_signal_rfft_s16(const mf_signal_rfft_s16_params *p, const int16_t *x, int16_t *out,
                        int16_t *work) {
    const int32_t n = p->ncfft;
    int32_t r, k;
    for (r = 0; r < p->rows; ++r) {
        int16_t *y = out + r * 2 * (n + 1);
        mf_c16 dc;
        mf_fft_s16(p, x + r * p->in_len, work);
        dc = mf_c16_fixdiv(mf_c16_load(work, 0), 16383);
        mf_c16_store(y, 0, dc.r + dc.i, 0);
        mf_c16_store(y, n, dc.r - dc.i, 0);
        for (k = 1; k <= n / 2; ++k) {
            const mf_c16 zk = mf_c16_load(work, k), znk = mf_c16_load(work, n - k);
            const mf_c16 fpk = mf_c16_fixdiv(zk, 16383);
            const mf_c16 fpnk = mf_c16_fixdiv(mf_c16_make(znk.r, -znk.i), 16383);
            const mf_c16 f1 = mf_c16_add(fpk, fpnk);
            const mf_c16 t = mf_c16_mul(mf_c16_sub(fpk, fpnk), p->super_twiddles, k - 1);
            /* HALF_OF of the int sums: arithmetic shift, then truncation */
            mf_c16_store(y, k, (f1.r + t.r) >> 1, (f1.i + t.i) >> 1);
            mf_c16_store(y, n - k, (f1.r - t.r) >> 1, (t.i - f1.i) >> 1);
        }
    }
}
