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
    """Complex arithmetic of a ``FIXED_POINT`` build. A complex array is one array stacked as
    ``(2, ...)`` = (real, imag) in the scalar type; sums wrap in that type like the C stores."""

    def __init__(self, bits: int) -> None:
        self.scalar = np.dtype(np.int16 if bits == 16 else np.int32)
        self.wide = np.dtype(np.int32 if bits == 16 else np.int64)  # SAMPPROD
        self.frac = bits - 1
        self.samp_max = (1 << self.frac) - 1
        self.half = self.wide.type(1 << (self.frac - 1))

    def twiddle(self, phase: float) -> tuple[int, int]:
        return (math.floor(0.5 + self.samp_max * math.cos(phase)),
                math.floor(0.5 + self.samp_max * math.sin(phase)))

    def constant(self, values: np.ndarray) -> np.ndarray:
        """Twiddles as multiplier operands (the product type)."""
        return values.astype(self.wide)

    def sround(self, x: np.ndarray) -> np.ndarray:
        x += self.half
        x >>= self.frac
        return x.astype(self.scalar)

    def s_mul(self, z: np.ndarray, k) -> np.ndarray:
        """``S_MUL`` of every element by ``k`` (a product-type scalar or broadcastable array)."""
        return self.sround(z.astype(self.wide) * k)

    def fixdiv(self, z: np.ndarray, k: int) -> np.ndarray:
        return self.s_mul(z, self.wide.type(self.samp_max // k))

    def cmul(self, a: np.ndarray, t: np.ndarray) -> np.ndarray:
        """``C_MUL`` of stacked ``a`` by stacked twiddles ``t`` (product type)."""
        w = a.astype(self.wide)
        x, y = w * t[0], w * t[1]  # (ar*tr, ai*tr), (ar*ti, ai*ti)
        x[0] -= y[1]
        y[0] += x[1]
        x[1] = y[0]
        return self.sround(x)

    def half_of(self, x: np.ndarray) -> np.ndarray:
        return x >> 1

    def half_of_sum(self, a: np.ndarray, b: np.ndarray, sign: int = 1) -> np.ndarray:
        """``HALF_OF(a + b)`` (or ``a - b``): the sum in C ``int``, then shifted and truncated."""
        a, b = a.astype(np.int32), b.astype(np.int32)
        return ((a + b if sign > 0 else a - b) >> 1).astype(self.scalar)


class _Float:
    """The float build: float32 operations in C order, no C_FIXDIV scaling."""

    scalar = np.dtype(np.float32)
    _half = np.float32(0.5)

    def twiddle(self, phase: float) -> tuple[float, float]:
        return np.float32(math.cos(phase)), np.float32(math.sin(phase))

    def constant(self, values: np.ndarray) -> np.ndarray:
        return values

    def s_mul(self, z, k):
        return z * k

    def fixdiv(self, z, k: int):
        return z

    def cmul(self, a, t):
        return np.stack([a[0] * t[0] - a[1] * t[1], a[0] * t[1] + a[1] * t[0]])

    def half_of(self, x):
        return x * self._half

    def half_of_sum(self, a, b, sign: int = 1):
        return (a + b if sign > 0 else a - b) * self._half


def _rot(z: np.ndarray) -> np.ndarray:
    """(re, im) -> (im, -re): multiplication by -i (negation wraps in integer types)."""
    return np.stack([z[1], -z[0]])


class KissFftr:
    """A configured real FFT (``kiss_fftr_alloc``): forward for ``inverse=False``, else inverse.

    ``dtype`` is the scalar type: int16, int32 or float32. Complex data is stacked as
    ``(2, rows, n)`` (real, imag) so one numpy call handles both parts."""

    def __init__(self, fft_length: int, inverse: bool, dtype: np.dtype) -> None:
        dtype = np.dtype(dtype)
        self.nfft = fft_length
        self.ncfft = n = fft_length // 2
        self.inverse = inverse
        self.ar = _Float() if dtype == np.float32 else _Fixed(8 * dtype.itemsize)
        self.dtype = self.ar.scalar
        sign = -1.0 if inverse else 1.0
        tw = [self.ar.twiddle(sign * (-2 * _PI * i / n)) for i in range(n)]
        self.tw = self.ar.constant(np.array(tw, self.dtype).T.copy())  # (2, n)
        sup = [self.ar.twiddle(sign * (-_PI * ((i + 1) / n + 0.5))) for i in range(n // 2)]
        self.super_tw = self.ar.constant(np.array(sup, self.dtype).reshape(-1, 2).T.copy())
        self.factors = factorize(n)
        self.order = _leaf_order(self.factors, n)
        fstrides = np.cumprod([1] + [p for p, _ in self.factors[:-1]])
        # per stage (last factor first): radix, length, fstride and the twiddles of q = 1..p-1
        self.stages = []
        for (p, m), fstride in reversed(list(zip(self.factors, fstrides.tolist()))):
            u = np.arange(m)
            idx = np.arange(1, p)[:, None] * u[None, :] * fstride  # (p-1, m)
            # materialized over the segments: products then run over long contiguous rows
            tw = np.ascontiguousarray(np.broadcast_to(self.tw[:, None, idx], (2, fstride, p - 1, m)))
            self.stages.append((p, m, fstride, tw))

    # -- the complex FFT (kf_work) ------------------------------------------------------------

    def _fft(self, z: np.ndarray) -> np.ndarray:
        """``kiss_fft`` of stacked ``(2, rows, ncfft)`` complex data."""
        ar = self.ar
        _, rows, n = z.shape
        z = z[:, :, self.order]
        for p, m, fstride, tw in self.stages:
            z = ar.fixdiv(z, p).reshape(2, rows, fstride, p, m)
            s = ar.cmul(z[:, :, :, 1:], tw[:, None])  # q = 1..p-1 times their twiddles
            out = np.empty_like(z)
            getattr(self, f"_bfly{p}")(z[:, :, :, 0], s, fstride, m, out)
            z = out.reshape(2, rows, n)
        return z

    def _bfly2(self, f0, s, fstride, m, out):
        np.add(f0, s[:, :, :, 0], out=out[:, :, :, 0])
        np.subtract(f0, s[:, :, :, 0], out=out[:, :, :, 1])

    def _bfly3(self, f0, s, fstride, m, out):
        ar = self.ar
        epi3_i = self.tw[1, fstride * m]
        s1, s2 = s[:, :, :, 0], s[:, :, :, 1]
        s3, s0 = s1 + s2, s1 - s2
        g1 = f0 - ar.half_of(s3)
        r = _rot(ar.s_mul(s0, epi3_i))
        np.add(f0, s3, out=out[:, :, :, 0])
        np.subtract(g1, r, out=out[:, :, :, 1])
        np.add(g1, r, out=out[:, :, :, 2])

    def _bfly4(self, f0, s, fstride, m, out):
        s0, s1, s2 = s[:, :, :, 0], s[:, :, :, 1], s[:, :, :, 2]
        s5 = f0 - s1
        f0 = f0 + s1
        s3 = s0 + s2
        r = _rot(s0 - s2)  # (s4.i, -s4.r)
        np.subtract(f0, s3, out=out[:, :, :, 2])
        np.add(f0, s3, out=out[:, :, :, 0])
        if self.inverse:
            np.subtract(s5, r, out=out[:, :, :, 1])
            np.add(s5, r, out=out[:, :, :, 3])
        else:
            np.add(s5, r, out=out[:, :, :, 1])
            np.subtract(s5, r, out=out[:, :, :, 3])

    def _bfly5(self, f0, s, fstride, m, out):
        ar = self.ar
        ya, yb = self.tw[:, fstride * m], self.tw[:, 2 * fstride * m]
        s1, s2, s3, s4 = (s[:, :, :, q] for q in range(4))
        s7, s10 = s1 + s4, s1 - s4
        s8, s9 = s2 + s3, s2 - s3
        sm = ar.s_mul
        np.add(f0, s7 + s8, out=out[:, :, :, 0])
        s5 = f0 + sm(s7, ya[0]) + sm(s8, yb[0])
        s6 = _rot(sm(s10, ya[1])) + _rot(sm(s9, yb[1]))
        s11 = f0 + sm(s7, yb[0]) + sm(s8, ya[0])
        s12 = _rot(sm(s9, ya[1])) - _rot(sm(s10, yb[1]))
        np.subtract(s5, s6, out=out[:, :, :, 1])
        np.add(s11, s12, out=out[:, :, :, 2])
        np.subtract(s11, s12, out=out[:, :, :, 3])
        np.add(s5, s6, out=out[:, :, :, 4])

    # -- real transforms ---------------------------------------------------------------------

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``kiss_fftr``: ``(rows, nfft)`` scalars -> ``(rows, ncfft + 1, 2)`` (real, imag)."""
        ar, n = self.ar, self.ncfft
        x = np.asarray(x, dtype=self.dtype)
        z = self._fft(np.stack([x[:, 0::2], x[:, 1::2]]))
        out = np.zeros((x.shape[0], n + 1, 2), self.dtype)
        tdc = ar.fixdiv(z[:, :, 0], 2)
        out[:, 0, 0] = tdc[0] + tdc[1]
        out[:, n, 0] = tdc[0] - tdc[1]
        k = np.arange(1, n // 2 + 1)
        fpk = ar.fixdiv(z[:, :, k], 2)
        fpnk = ar.fixdiv(np.stack([z[0][:, n - k], -z[1][:, n - k]]), 2)
        f1k, f2k = fpk + fpnk, fpk - fpnk
        tw = ar.cmul(f2k, self.super_tw[:, None, k - 1])
        out[:, k, 0] = ar.half_of_sum(f1k[0], tw[0])
        out[:, k, 1] = ar.half_of_sum(f1k[1], tw[1])
        out[:, n - k, 0] = ar.half_of_sum(f1k[0], tw[0], -1)
        out[:, n - k, 1] = ar.half_of_sum(tw[1], f1k[1], -1)
        return out

    def inverse_transform(self, freq: np.ndarray) -> np.ndarray:
        """``kiss_fftri``: ``(rows, ncfft + 1, 2)`` -> ``(rows, nfft)`` scalars (unscaled)."""
        ar, n = self.ar, self.ncfft
        freq = np.asarray(freq, dtype=self.dtype)
        z = np.empty((2, freq.shape[0], n), self.dtype)
        r0, rn = freq[:, 0, 0], freq[:, n, 0]
        z[:, :, 0] = ar.fixdiv(np.stack([r0 + rn, r0 - rn]), 2)
        k = np.arange(1, n // 2 + 1)
        fk = ar.fixdiv(np.stack([freq[:, k, 0], freq[:, k, 1]]), 2)
        fnkc = ar.fixdiv(np.stack([freq[:, n - k, 0], -freq[:, n - k, 1]]), 2)
        fek, tmp = fk + fnkc, fk - fnkc
        fok = ar.cmul(tmp, self.super_tw[:, None, k - 1])
        z[:, :, k] = fek + fok
        low = fek - fok
        z[0][:, n - k], z[1][:, n - k] = low[0], -low[1]
        out_z = self._fft(z)
        out = np.empty((freq.shape[0], self.nfft), self.dtype)
        out[:, 0::2], out[:, 1::2] = out_z[0], out_z[1]
        return out
