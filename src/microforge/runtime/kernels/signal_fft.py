"""Signal-library spectral kernels: SignalFftAutoScale, SignalRfft, SignalIrfft."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.kernels.signal_common import (
    TENSOR_TYPES,
    check,
    check_io,
    msb32,
    options,
    rows,
)
from microforge.runtime.kernels.signal_kissfft import KissFftr, supported_length
from microforge.runtime.registry import Kernel, OpContext, register


def max_abs16(x: np.ndarray) -> np.ndarray:
    """``MaxAbs16`` per row of an int16 ``(rows, n)`` array, as the portable C loop computes it:
    ``max`` is an int16, so ``-(-32768)`` stores -32768 and the scan continues from a negative
    maximum. Rows without -32768 reduce to ``max |x|``; the others are scanned element by element
    (vectorized over those rows). Returns int32."""
    a = np.abs(x)  # int16: |-32768| stays -32768
    result = a.max(axis=1, initial=0).astype(np.int32)
    odd = np.flatnonzero(a.min(axis=1, initial=0) < 0)
    if odd.size:
        sub = x[odd].astype(np.int32)
        m = np.zeros(odd.size, np.int32)
        for j in range(sub.shape[1]):
            v = sub[:, j]
            m = np.where(v > m, v, np.where(-v > m, ((-v + 32768) & 0xFFFF) - 32768, m))
        result[odd] = m
    return result


@dataclass
class FftAutoScaleParams:
    """SignalFftAutoScale: ``length``, the number of input samples scanned and shifted (the
    output's length)."""

    length: int


@register("SignalFftAutoScale")
class FftAutoScale(Kernel):
    """TFLM ``fft_auto_scale_kernel.cc`` / ``FftAutoScale``: shift an int16 vector left by
    ``scale_bits = max(0, 15 - bitlen(MaxAbs16(x)))`` and output that count (int32 scalar).

    MaxAbs16 is the portable loop (see :func:`max_abs16`: a -32768 element leaves an int16
    maximum of -32768); ``MostSignificantBit32`` of a negative maximum (sign-extended) or of 0 is
    32 in the GCC build, so both give ``scale_bits = 0``. The product is truncated to int16.
    Tests: random int16 vectors (full range, small amplitudes, zeros, -32768 at various places)
    and the preprocessor models' operator.
    """

    def prepare(self, ctx: OpContext) -> FftAutoScaleParams:
        check_io(ctx, [np.int16], [np.int16, np.int32])
        x, out, scale = ctx.input(0), ctx.output(0), ctx.output(1)
        check(ctx, len(x.shape) == 1 and len(out.shape) == 1 and scale.shape == (),
              "needs a 1-D input and output and a scalar scale output")
        check(ctx, out.shape[0] <= x.shape[0], "output longer than the input")
        return FftAutoScaleParams(out.shape[0])

    def eval(self, params: FftAutoScaleParams, inputs, ctx):
        x = inputs[0][:, :params.length]
        m = max_abs16(x)
        bits = np.maximum(16 - msb32(m) - 1, 0)
        return [x << bits[:, None].astype(np.int16), bits.astype(np.int32)]


BLOCK_ROWS = 256  # FFT rows per pass: its temporaries stay in cache


@dataclass
class RfftParams:
    """SignalRfft / SignalIrfft: ``fft``, the KISS FFT plan (twiddles, stage plan, input order,
    in the build's type ``T``); ``in_len``, the input row length; ``out_shape``, the output
    tensor's shape."""

    fft: KissFftr
    in_len: int
    out_shape: tuple[int, ...]


def _fft_options(ctx: OpContext) -> tuple[np.dtype, int]:
    opts = options(ctx, "T", "fft_length")
    dtype = TENSOR_TYPES.get(int(opts["T"]))
    check(ctx, dtype is not None, f"T={opts['T']} (int16, int32 or float32 only)")
    length = int(opts["fft_length"])
    why = supported_length(length)
    check(ctx, why is None, str(why))
    return dtype, length


@register("SignalRfft")
class Rfft(Kernel):
    """TFLM ``rfft.cc``: a real FFT of every innermost row (zero-padded to ``fft_length``) through
    KISS FFT's ``kiss_fftr``, in the build of the ``T`` option (int16 / int32 fixed point with
    per-stage scaling, or float32), output as interleaved (real, imag) pairs, ``fft_length/2 + 1``
    of them. Every arithmetic step is reproduced (see ``signal_kissfft``). Refused: odd lengths,
    half-lengths with a prime factor above 5 (TFLM crashes), rows longer than ``fft_length``.
    Tests: random int16 / int32 / float32 rows of lengths 512 (radix 4), 64 (4*4*2), 48 (4*3*2),
    40 (4*5*2), shorter than the FFT (zero padding), several rows, the preprocessor's operator.
    """

    def prepare(self, ctx: OpContext) -> RfftParams:
        dtype, length = _fft_options(ctx)
        check_io(ctx, [dtype], [dtype])
        x, out = ctx.input(0), ctx.output()
        check(ctx, len(x.shape) >= 1 and len(x.shape) == len(out.shape),
              "input and output ranks differ")
        in_len = x.shape[-1]
        check(ctx, 0 < in_len <= length, f"rows of {in_len} do not fit fft_length {length}")
        check(ctx, out.shape[-1] == length + 2, f"output rows must hold {length // 2 + 1} pairs")
        check(ctx, x.size // in_len == out.size // out.shape[-1], "row counts differ")
        return RfftParams(KissFftr(length, False, dtype), in_len, out.shape)

    def eval(self, params: RfftParams, inputs, ctx):
        x = rows(inputs[0], params.in_len)
        b, n = x.shape[0], x.shape[1]
        work = np.zeros((b * n, params.fft.nfft), params.fft.dtype)
        work[:, : params.in_len] = x.reshape(b * n, -1)
        out = np.concatenate([params.fft.forward(work[i : i + BLOCK_ROWS])
                              for i in range(0, max(b * n, 1), BLOCK_ROWS)])
        return [out.reshape((b,) + params.out_shape)]


@register("SignalIrfft")
class Irfft(Kernel):
    """TFLM ``irfft.cc``: ``kiss_fftri`` of every innermost row of ``fft_length/2 + 1``
    interleaved (real, imag) pairs into ``fft_length`` samples. Fixed point keeps KISS FFT's
    per-stage scaling (no further scaling, as TFLM); float32 divides by ``fft_length`` afterwards
    (``IrfftFloatApply``). Tests: random spectra in the three types, lengths as for SignalRfft.
    """

    def prepare(self, ctx: OpContext) -> RfftParams:
        dtype, length = _fft_options(ctx)
        check_io(ctx, [dtype], [dtype])
        x, out = ctx.input(0), ctx.output()
        check(ctx, len(x.shape) >= 1 and len(x.shape) == len(out.shape),
              "input and output ranks differ")
        check(ctx, x.shape[-1] == length + 2, f"input rows must hold {length // 2 + 1} pairs")
        check(ctx, out.shape[-1] == length, f"output rows must hold {length} samples")
        check(ctx, x.size // x.shape[-1] == out.size // length, "row counts differ")
        return RfftParams(KissFftr(length, True, dtype), length + 2, out.shape)

    def eval(self, params: RfftParams, inputs, ctx):
        fft = params.fft
        x = rows(inputs[0], params.in_len)
        b = x.shape[0]
        x = x.reshape(-1, fft.ncfft + 1, 2)
        y = np.concatenate([fft.inverse_transform(x[i : i + BLOCK_ROWS])
                            for i in range(0, max(x.shape[0], 1), BLOCK_ROWS)])
        if fft.dtype == np.float32:
            y = y / np.float32(fft.nfft)
        return [y.reshape((b,) + params.out_shape)]
