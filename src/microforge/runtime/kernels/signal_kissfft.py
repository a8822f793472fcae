"""KISS FFT (v130 with TFLM's patch) as the signal library builds it, vectorized over rows.

TFLM's SignalRfft / SignalIrfft call ``kiss_fftr`` / ``kiss_fftri`` compiled three times: 16-bit
fixed point (``FIXED_POINT 16``), 32-bit fixed point and float. This module reproduces every
arithmetic step of those builds on whole arrays (all rows and all butterflies of a stage at once;
every butterfly only reads and writes its own elements, so the order across them is immaterial):

* twiddles ``floor(.5 + SAMP_MAX * cos(phase))`` (fixed) or ``(float) cos(phase)``, phases in
  double exactly as the C computes them (through libm via :mod:`math`);
* the mixed-radix decimation (``kf_factor``: radix 4 first, then 2, 3, 5) and its recursion order,
  turned into one input permutation plus one pass per stage;
* fixed point: products in the wider type, ``sround`` = add half, arithmetic shift right by 15
  (31), truncate; ``C_FIXDIV`` divides by the radix at every stage via ``SAMP_MAX / radix``; sums
  wrap to the scalar type, ``HALF_OF`` is an arithmetic shift of the C ``int`` sum;
* float: float32 operations one at a time in the C's order (no fused multiply-add, as the x86-64
  build of the oracle), ``HALF_OF(x) = x * 0.5f``.

Radices above 5 go through ``kf_bfly_generic``, whose scratch buffer the TFLM patch allocates as
a null pointer (TFLM crashes): such lengths are refused, as are odd lengths (``kiss_fftr_alloc``
returns null for them).
"""

from __future__ import annotations

import math

import numpy as np

_PI = math.pi  # the C literals 3.14159265358979323846... round to this double


def factorize(n: int) -> list[tuple[int, int]]:
    """``kf_factor``: (radix, remaining length) pairs, radix 4 first, then 2, then odd primes."""
    factors = []
    p = 4
    floor_sqrt = math.floor(math.sqrt(n))
    while True:
        while n % p:
            p = 2 if p == 4 else 3 if p == 2 else p + 2
            if p > floor_sqrt:
                p = n
        n //= p
        factors.append((p, n))
        if n <= 1:
            return factors


def supported_length(fft_length: int) -> str | None:
    """None when TFLM can run a real FFT of this length, else why not."""
    if fft_length < 4 or fft_length % 2:
        return f"fft_length {fft_length} (must be even and at least 4)"
    radices = [p for p, _ in factorize(fft_length // 2)]
    if any(p > 5 for p in radices):
        return (f"fft_length {fft_length}: half-length radix {max(radices)} > 5 (TFLM's generic "
                "butterfly has no scratch buffer and crashes)")
    return None


def _leaf_order(factors: list[tuple[int, int]], n: int) -> np.ndarray:
    """The input index each position of ``Fout`` holds after ``kf_work``'s recursive copies."""
    order = np.empty(n, np.int64)

    def work(out: int, src: int, fstride: int, level: int) -> None:
        p, m = factors[level]
        if m == 1:
            order[out : out + p] = src + fstride * np.arange(p)
            return
        for k in range(p):
            work(out + k * m, src + k * fstride, fstride * p, level + 1)

    work(0, 0, 1, 0)
    return order


class _Fixed:
    """Complex arithmetic of a ``FIXED_POINT`` build on (real, imag) pairs of scalar arrays."""

    def __init__(self, bits: int) -> None:
        self.scalar = np.dtype(np.int16 if bits == 16 else np.int32)
        self.wide = np.dtype(np.int32 if bits == 16 else np.int64)  # SAMPPROD
        self.frac = bits - 1
        self.samp_max = (1 << self.frac) - 1
        self.half = self.wide.type(1 << (self.frac - 1))

    def twiddle(self, phase: float) -> tuple[int, int]:
        return (math.floor(0.5 + self.samp_max * math.cos(phase)),
                math.floor(0.5 + self.samp_max * math.sin(phase)))

    def smul(self, a, b):
        return a.astype(self.wide) * b

    def sround(self, x):
        return ((x + self.half) >> self.frac).astype(self.scalar)

    def s_mul(self, a, b):
        return self.sround(self.smul(a, b))

    def fixdiv(self, c, k: int):
        d = self.wide.type(self.samp_max // k)
        return self.s_mul(c[0], d), self.s_mul(c[1], d)

    def cmul(self, a, b):
        return (self.sround(self.smul(a[0], b[0]) - self.smul(a[1], b[1])),
                self.sround(self.smul(a[0], b[1]) + self.smul(a[1], b[0])))

    def mulbyscalar(self, c, s):
        return self.s_mul(c[0], s), self.s_mul(c[1], s)

    def half_of(self, x):
        return x >> 1

    def half_of_sum(self, a, b, sign: int = 1):
        """``HALF_OF(a + b)`` (or ``a - b``): the sum in C ``int``, then shifted and truncated."""
        a, b = a.astype(np.int32), b.astype(np.int32)
        return ((a + b if sign > 0 else a - b) >> 1).astype(self.scalar)


class _Float:
    """The float build: float32 operations in C order, no C_FIXDIV scaling."""

    scalar = np.dtype(np.float32)
    _half = np.float32(0.5)

    def twiddle(self, phase: float) -> tuple[float, float]:
        return np.float32(math.cos(phase)), np.float32(math.sin(phase))

    def s_mul(self, a, b):
        return a * b

    def fixdiv(self, c, k: int):
        return c

    def cmul(self, a, b):
        return a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]

    def mulbyscalar(self, c, s):
        return c[0] * s, c[1] * s

    def half_of(self, x):
        return x * self._half

    def half_of_sum(self, a, b, sign: int = 1):
        return (a + b if sign > 0 else a - b) * self._half


def _add(a, b):
    return a[0] + b[0], a[1] + b[1]


def _sub(a, b):
    return a[0] - b[0], a[1] - b[1]


class KissFftr:
    """A configured real FFT (``kiss_fftr_alloc``): forward for ``inverse=False``, else inverse.

    ``dtype`` is the scalar type: int16, int32 or float32. Arrays are ``(rows, n)``."""

    def __init__(self, fft_length: int, inverse: bool, dtype: np.dtype) -> None:
        dtype = np.dtype(dtype)
        self.nfft = fft_length
        self.ncfft = n = fft_length // 2
        self.inverse = inverse
        self.ar = _Float() if dtype == np.float32 else _Fixed(8 * dtype.itemsize)
        self.dtype = self.ar.scalar
        sign = -1.0 if inverse else 1.0
        tw = [self.ar.twiddle(sign * (-2 * _PI * i / n)) for i in range(n)]
        self.tw = (np.array([t[0] for t in tw], self.dtype), np.array([t[1] for t in tw], self.dtype))
        sup = [self.ar.twiddle(sign * (-_PI * ((i + 1) / n + 0.5))) for i in range(n // 2)]
        self.super_tw = (np.array([t[0] for t in sup], self.dtype),
                         np.array([t[1] for t in sup], self.dtype))
        self.factors = factorize(n)
        self.order = _leaf_order(self.factors, n)
        self._wide_tw = tuple(self._widen(t) for t in self.tw)
        self._wide_super = tuple(self._widen(t) for t in self.super_tw)

    def _widen(self, t: np.ndarray) -> np.ndarray:
        return t.astype(self.ar.wide) if isinstance(self.ar, _Fixed) else t

    # -- the complex FFT (kf_work) ------------------------------------------------------------

    def _tw(self, idx: np.ndarray):
        return self._wide_tw[0][idx], self._wide_tw[1][idx]

    def _fft(self, re: np.ndarray, im: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``kiss_fft`` of ``(rows, ncfft)`` complex data."""
        rows, n = re.shape
        re, im = re[:, self.order], im[:, self.order]
        fstrides = np.cumprod([1] + [p for p, _ in self.factors[:-1]])
        for (p, m), fstride in reversed(list(zip(self.factors, fstrides))):
            re = re.reshape(rows, int(fstride), p, m)
            im = im.reshape(rows, int(fstride), p, m)
            f = [(re[:, :, q, :], im[:, :, q, :]) for q in range(p)]
            f = getattr(self, f"_bfly{p}")(f, int(fstride), m)
            re = np.stack([c[0] for c in f], axis=2).reshape(rows, n)
            im = np.stack([c[1] for c in f], axis=2).reshape(rows, n)
        return re, im

    def _bfly2(self, f, fstride, m):
        ar = self.ar
        u = np.arange(m)
        f0, f1 = ar.fixdiv(f[0], 2), ar.fixdiv(f[1], 2)
        t = ar.cmul(f1, self._tw(u * fstride))
        return [_add(f0, t), _sub(f0, t)]

    def _bfly3(self, f, fstride, m):
        ar = self.ar
        u = np.arange(m)
        epi3_i = self._wide_tw[1][fstride * m]
        f0, f1, f2 = (ar.fixdiv(c, 3) for c in f)
        s1 = ar.cmul(f1, self._tw(u * fstride))
        s2 = ar.cmul(f2, self._tw(2 * u * fstride))
        s3, s0 = _add(s1, s2), _sub(s1, s2)
        g1 = (f0[0] - ar.half_of(s3[0]), f0[1] - ar.half_of(s3[1]))
        s0 = ar.mulbyscalar(s0, epi3_i)
        g0 = _add(f0, s3)
        g2 = (g1[0] + s0[1], g1[1] - s0[0])
        g1 = (g1[0] - s0[1], g1[1] + s0[0])
        return [g0, g1, g2]

    def _bfly4(self, f, fstride, m):
        ar = self.ar
        u = np.arange(m)
        f0, f1, f2, f3 = (ar.fixdiv(c, 4) for c in f)
        s0 = ar.cmul(f1, self._tw(u * fstride))
        s1 = ar.cmul(f2, self._tw(2 * u * fstride))
        s2 = ar.cmul(f3, self._tw(3 * u * fstride))
        s5 = _sub(f0, s1)
        f0 = _add(f0, s1)
        s3, s4 = _add(s0, s2), _sub(s0, s2)
        g2 = _sub(f0, s3)
        g0 = _add(f0, s3)
        if self.inverse:
            g1 = (s5[0] - s4[1], s5[1] + s4[0])
            g3 = (s5[0] + s4[1], s5[1] - s4[0])
        else:
            g1 = (s5[0] + s4[1], s5[1] - s4[0])
            g3 = (s5[0] - s4[1], s5[1] + s4[0])
        return [g0, g1, g2, g3]

    def _bfly5(self, f, fstride, m):
        ar = self.ar
        u = np.arange(m)
        ya = (self._wide_tw[0][fstride * m], self._wide_tw[1][fstride * m])
        yb = (self._wide_tw[0][2 * fstride * m], self._wide_tw[1][2 * fstride * m])
        f0, f1, f2, f3, f4 = (ar.fixdiv(c, 5) for c in f)
        s1 = ar.cmul(f1, self._tw(u * fstride))
        s2 = ar.cmul(f2, self._tw(2 * u * fstride))
        s3 = ar.cmul(f3, self._tw(3 * u * fstride))
        s4 = ar.cmul(f4, self._tw(4 * u * fstride))
        s7, s10 = _add(s1, s4), _sub(s1, s4)
        s8, s9 = _add(s2, s3), _sub(s2, s3)
        sm = ar.s_mul
        g0 = (f0[0] + (s7[0] + s8[0]), f0[1] + (s7[1] + s8[1]))
        s5 = (f0[0] + sm(s7[0], ya[0]) + sm(s8[0], yb[0]),
              f0[1] + sm(s7[1], ya[0]) + sm(s8[1], yb[0]))
        s6 = (sm(s10[1], ya[1]) + sm(s9[1], yb[1]),
              -sm(s10[0], ya[1]) - sm(s9[0], yb[1]))
        s11 = (f0[0] + sm(s7[0], yb[0]) + sm(s8[0], ya[0]),
               f0[1] + sm(s7[1], yb[0]) + sm(s8[1], ya[0]))
        s12 = (-sm(s10[1], yb[1]) + sm(s9[1], ya[1]),
               sm(s10[0], yb[1]) - sm(s9[0], ya[1]))
        return [g0, _sub(s5, s6), _add(s11, s12), _sub(s11, s12), _add(s5, s6)]

    # -- real transforms ---------------------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``kiss_fftr``: ``(rows, nfft)`` scalars -> ``(rows, ncfft + 1, 2)`` (real, imag)."""
        ar, n = self.ar, self.ncfft
        x = np.ascontiguousarray(x, dtype=self.dtype)
        re, im = self._fft(x[:, 0::2], x[:, 1::2])
        out = np.zeros((x.shape[0], n + 1, 2), self.dtype)
        tdc = ar.fixdiv((re[:, 0], im[:, 0]), 2)
        out[:, 0, 0] = tdc[0] + tdc[1]
        out[:, n, 0] = tdc[0] - tdc[1]
        k = np.arange(1, n // 2 + 1)
        fpk = ar.fixdiv((re[:, k], im[:, k]), 2)
        fpnk = ar.fixdiv((re[:, n - k], -im[:, n - k]), 2)
        f1k, f2k = _add(fpk, fpnk), _sub(fpk, fpnk)
        tw = ar.cmul(f2k, (self._wide_super[0][k - 1], self._wide_super[1][k - 1]))
        out[:, k, 0] = ar.half_of_sum(f1k[0], tw[0])
        out[:, k, 1] = ar.half_of_sum(f1k[1], tw[1])
        out[:, n - k, 0] = ar.half_of_sum(f1k[0], tw[0], -1)
        out[:, n - k, 1] = ar.half_of_sum(tw[1], f1k[1], -1)
        return out

    def inverse_transform(self, freq: np.ndarray) -> np.ndarray:
        """``kiss_fftri``: ``(rows, ncfft + 1, 2)`` -> ``(rows, nfft)`` scalars (unscaled)."""
        ar, n = self.ar, self.ncfft
        freq = np.asarray(freq, dtype=self.dtype)
        re = np.empty((freq.shape[0], n), self.dtype)
        im = np.empty_like(re)
        r0, rn = freq[:, 0, 0], freq[:, n, 0]
        re[:, 0], im[:, 0] = ar.fixdiv((r0 + rn, r0 - rn), 2)
        k = np.arange(1, n // 2 + 1)
        fk = ar.fixdiv((freq[:, k, 0], freq[:, k, 1]), 2)
        fnkc = ar.fixdiv((freq[:, n - k, 0], -freq[:, n - k, 1]), 2)
        fek, tmp = _add(fk, fnkc), _sub(fk, fnkc)
        fok = ar.cmul(tmp, (self._wide_super[0][k - 1], self._wide_super[1][k - 1]))
        re[:, k], im[:, k] = _add(fek, fok)
        low = _sub(fek, fok)
        re[:, n - k], im[:, n - k] = low[0], -low[1]
        out_re, out_im = self._fft(re, im)
        out = np.empty((freq.shape[0], self.nfft), self.dtype)
        out[:, 0::2], out[:, 1::2] = out_re, out_im
        return out
