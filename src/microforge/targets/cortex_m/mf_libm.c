/* expf, expm1f and tanhf computed the way glibc computes them, for Cortex-M firmware.
 *
 * The Python runtime (like the tflite-micro reference build) reproduces glibc's libm. newlib's
 * single-precision functions differ from it by 1-2 ulp on some inputs (its Cortex-M4 build uses
 * the older fdlibm expf; its tanhf/expm1f round differently), so float models with exp or tanh
 * would not be bit-exact on the target. Linking this file ahead of libm replaces those three
 * functions with the same algorithms glibc uses:
 * - expf: 2^(k/32) from a table of 32 doubles times a cubic in the reduced argument, evaluated in
 *   double precision (glibc's generic expf; correctly rounded except within ~0.002 ulp of a tie);
 * - expm1f: fdlibm's reduction by k*ln2 and rational approximation, in float;
 * - tanhf: fdlibm's formula through expm1f.
 * Build with -ffp-contract=off: a fused multiply-add would change the roundings. */
#include <math.h>
#include <stdint.h>
#include <string.h>

static uint32_t f2u(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof(u));
    return u;
}

static float u2f(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof(x));
    return x;
}

/* bits of 2^(i/32), minus i << 47 (the k / 32 part of the exponent is added back in expf) */
static const uint64_t mf_exp2_tab[32] = {
    0x3ff0000000000000u, 0x3fefd9b0d3158574u, 0x3fefb5586cf9890fu, 0x3fef9301d0125b51u,
    0x3fef72b83c7d517bu, 0x3fef54873168b9aau, 0x3fef387a6e756238u, 0x3fef1e9df51fdee1u,
    0x3fef06fe0a31b715u, 0x3feef1a7373aa9cbu, 0x3feedea64c123422u, 0x3feece086061892du,
    0x3feebfdad5362a27u, 0x3feeb42b569d4f82u, 0x3feeab07dd485429u, 0x3feea47eb03a5585u,
    0x3feea09e667f3bcdu, 0x3fee9f75e8ec5f74u, 0x3feea11473eb0187u, 0x3feea589994cce13u,
    0x3feeace5422aa0dbu, 0x3feeb737b0cdc5e5u, 0x3feec49182a3f090u, 0x3feed503b23e255du,
    0x3feee89f995ad3adu, 0x3feeff76f2fb5e47u, 0x3fef199bdd85529cu, 0x3fef3720dcef9069u,
    0x3fef5818dcfba487u, 0x3fef7c97337b9b5fu, 0x3fefa4afa2a490dau, 0x3fefd0765b6e4540u,
};

float expf(float x) {
    const double invln2_32 = 0x1.71547652b82fep+5;
    const double shift = 0x1.8p+52;
    const double c0 = 0x1.c6af84b912394p-20;
    const double c1 = 0x1.ebfce50fac4f3p-13;
    const double c2 = 0x1.62e42ff0c52d6p-6;
    const uint32_t abstop = (f2u(x) >> 20) & 0x7ffu;
    double z, kd, r, s, y;
    uint64_t ki, t;
    if (abstop >= (f2u(88.0f) >> 20)) {
        if (f2u(x) == f2u(-INFINITY)) {
            return 0.0f;
        }
        if (abstop >= (f2u(INFINITY) >> 20)) {
            return x + x;
        }
        if (x > 0x1.62e42ep6f) {
            return INFINITY;
        }
        if (x < -0x1.9fe368p6f) {
            return 0.0f;
        }
    }
    z = invln2_32 * (double)x;
    kd = z + shift; /* rounds z to an integer in the low bits of kd */
    memcpy(&ki, &kd, sizeof(ki));
    kd -= shift;
    r = z - kd;
    t = mf_exp2_tab[ki % 32u] + (ki << 47);
    memcpy(&s, &t, sizeof(s));
    z = c0 * r + c1;
    y = c2 * r + 1.0;
    y = z * (r * r) + y;
    return (float)(y * s);
}

float expm1f(float x) {
    const float ln2_hi = 6.9313812256e-01f;
    const float ln2_lo = 9.0580006145e-06f;
    const float invln2 = 1.4426950216e+00f;
    const float q1 = -3.3333335072e-02f, q2 = 1.5873016091e-03f, q3 = -7.9365076090e-05f;
    const float q4 = 4.0082177293e-06f, q5 = -2.0109921195e-07f;
    const uint32_t word = f2u(x);
    const uint32_t mag = word & 0x7fffffffu;
    const int negative = (word >> 31) != 0;
    float hi, lo, c = 0.0f, t, e, hxs, hfx, r1, y;
    int32_t k;
    if (mag >= 0x4195b844u) { /* |x| >= 27 ln2 */
        if (mag >= 0x42b17218u) {
            if (mag > 0x7f800000u) {
                return x + x;
            }
            if (mag == 0x7f800000u) {
                return negative ? -1.0f : x;
            }
            if (x > 8.8721679688e+01f) {
                return INFINITY;
            }
        }
        if (negative) {
            return -1.0f;
        }
    }
    if (mag > 0x3eb17218u) { /* |x| > 0.5 ln2: x = k ln2 + r */
        if (mag < 0x3f851592u) {
            k = negative ? -1 : 1;
            hi = negative ? x + ln2_hi : x - ln2_hi;
            lo = negative ? -ln2_lo : ln2_lo;
        } else {
            k = (int32_t)(invln2 * x + (negative ? -0.5f : 0.5f));
            t = (float)k;
            hi = x - t * ln2_hi;
            lo = t * ln2_lo;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if (mag < 0x33000000u) { /* |x| < 2^-25 */
        return x;
    } else {
        k = 0;
    }
    hfx = 0.5f * x;
    hxs = x * hfx;
    r1 = 1.0f + hxs * (q1 + hxs * (q2 + hxs * (q3 + hxs * (q4 + hxs * q5))));
    t = 3.0f - r1 * hfx;
    e = hxs * ((r1 - t) / (6.0f - x * t));
    if (k == 0) {
        return x - (x * e - hxs);
    }
    e = (x * (e - c) - c) - hxs;
    if (k == -1) {
        return 0.5f * (x - e) - 0.5f;
    }
    if (k == 1) {
        return x < -0.25f ? -2.0f * (e - (x + 0.5f)) : 1.0f + 2.0f * (x - e);
    }
    if (k <= -2 || k > 56) {
        y = 1.0f - (e - x);
        y = u2f(f2u(y) + ((uint32_t)k << 23));
        return y - 1.0f;
    }
    if (k < 23) {
        y = u2f(0x3f800000u - (0x1000000u >> k)) - (e - x); /* (1 - 2^-k) - (e - x) */
    } else {
        y = (x - (e + u2f((uint32_t)(0x7f - k) << 23))) + 1.0f;
    }
    return u2f(f2u(y) + ((uint32_t)k << 23));
}

float tanhf(float x) {
    const uint32_t word = f2u(x);
    const uint32_t mag = word & 0x7fffffffu;
    float t, z;
    if (mag >= 0x7f800000u) {
        return (word >> 31) ? 1.0f / x - 1.0f : 1.0f / x + 1.0f;
    }
    if (mag < 0x24000000u) { /* |x| < 2^-55 */
        return x * (1.0f + x);
    }
    if (mag >= 0x41b00000u) { /* |x| >= 22 */
        z = 1.0f;
    } else if (mag >= 0x3f800000u) {
        t = expm1f(2.0f * fabsf(x));
        z = 1.0f - 2.0f / (t + 2.0f);
    } else {
        t = expm1f(-2.0f * fabsf(x));
        z = -t / (t + 2.0f);
    }
    return (word >> 31) ? -z : z;
}
