"""Signal-library spectrum kernels: SignalEnergy, SignalFilterBank, SignalFilterBankSquareRoot,
SignalFilterBankLog (``signal/src/energy.cc``, ``filter_bank.cc``, ``square_root_*.cc``,
``filter_bank_log.cc``, ``log.cc``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from microforge.runtime.kernels.signal_common import (
    check,
    check_io,
    constant,
    options,
)
from microforge.runtime.registry import Kernel, OpContext, register

U32 = np.uint64(0xFFFFFFFF)


@dataclass
class EnergyParams:
    """SignalEnergy (TFLM ``energy.cc``): its ``start_index`` / ``end_index`` options; the complex
    pairs ``start_index <= i < end_index`` are converted."""

    start_index: int
    end_index: int


@register("SignalEnergy")
class Energy(Kernel):
    """TFLM ``energy.cc`` / ``SpectrumToEnergy``: ``re*re + im*im`` of the complex int16 pairs
    ``start_index <= i < end_index``, computed in int32 (the one overflowing case,
    ``2 * 32768**2``, wraps to 2**31 as uint32) and stored as uint32. TFLM does not write the
    other output elements (they keep whatever the arena held); this kernel sets them to 0.
    Tests: random spectra (full int16 range, extremes) with the preprocessor's indices and
    others, comparing the written range.
    """

    def prepare(self, ctx: OpContext) -> EnergyParams:
        check_io(ctx, [np.int16], [np.uint32])
        opts = options(ctx, "end_index", "start_index")
        start, end = int(opts["start_index"]), int(opts["end_index"])
        x, out = ctx.input(0), ctx.output()
        check(ctx, len(x.shape) == 1 and len(out.shape) == 1, "needs 1-D input and output")
        check(ctx, 0 <= start and end <= min(x.shape[0] // 2, out.shape[0]),
              f"index range [{start}, {end}) does not fit the tensors")
        return EnergyParams(start, end)

    def eval(self, params: EnergyParams, inputs, ctx):
        start, end = params.start_index, params.end_index
        x = inputs[0].reshape(inputs[0].shape[0], -1, 2)[:, start:end]
        out = np.zeros((x.shape[0],) + ctx.output().shape, np.uint32)
        if end > start:
            re, im = x[..., 0].astype(np.int32), x[..., 1].astype(np.int32)
            re *= re
            im *= im
            re += im  # int32 wrap-around, as the C
            out[:, start:end] = re.view(np.uint32)
        return [out]


@dataclass
class FilterBankParams:
    """SignalFilterBank: ``channels`` = ``num_channels`` (the C kernel reads the operator's
    constant weight tables itself). Runtime evaluation plan: ``matrix``, the (inputs, channels)
    float64 weight sums (weights + the previous channel's unweights); ``split``, whether products
    of whole uint32 inputs could exceed 2**53 (then the input is split in 16-bit halves)."""

    matrix: np.ndarray
    channels: int
    split: bool


@register("SignalFilterBank")
class FilterBank(Kernel):
    """TFLM ``filter_bank.cc`` / ``FilterbankAccumulateChannels``: channel ``c`` (of
    ``num_channels + 1``; channel 0 is dropped) sums ``weights * x`` over its own band plus
    ``unweights * x`` over the previous channel's band, in uint64 (int16 weights sign-extended,
    arithmetic modulo 2**64).

    The bands are folded into one constant ``(inputs, channels)`` matrix in prepare and the
    input is multiplied by it in float64, exactly: every partial sum is an integer below
    ``2**32 * max_c sum|w|``, which is < 2**53 for weight tables like the preprocessors' (sums
    below 2**21). Otherwise the uint32 input is split into 16-bit halves (partial sums below
    ``65535 * max_c sum|w|``, checked < 2**53 in prepare), each multiplied by the matrix, and the
    halves are recombined modulo 2**64. Either way the result is the C's sequential uint64 sum
    (negative weights wrap modulo 2**64 alike). Weight tables must be constant and every index
    in range.
    Tests: random uint32 spectra (full range: wrap-around with negative weights is exercised by
    random weight tables) with the preprocessor's tables and synthetic ones.
    """

    def prepare(self, ctx: OpContext) -> FilterBankParams:
        check_io(ctx, [np.uint32] + [np.int16] * 5, [np.uint64])
        for t in ctx.inputs + ctx.outputs:
            check(ctx, len(t.shape) == 1, "all tensors must be 1-D")
        n = int(options(ctx, "num_channels")["num_channels"])
        weights, unweights, freq_starts, weight_starts, widths = (
            constant(ctx, i).astype(np.int64) for i in range(1, 6))
        check(ctx, n >= 0 and min(freq_starts.size, weight_starts.size, widths.size) >= n + 1,
              f"channel tables shorter than num_channels + 1 = {n + 1}")
        check(ctx, ctx.output().shape[0] == n, f"output must hold num_channels = {n} values")
        size = ctx.input(0).shape[0]
        matrix = np.zeros((size, n + 2), np.float64)
        for c in range(n + 1):
            width = int(widths[c])
            if width <= 0:
                continue
            f0, w0 = int(freq_starts[c]), int(weight_starts[c])
            check(ctx, f0 >= 0 and f0 + width <= size, f"channel {c} reads past the input")
            check(ctx, w0 >= 0 and w0 + width <= min(weights.size, unweights.size),
                  f"channel {c} reads past the weight tables")
            matrix[f0 : f0 + width, c] += weights[w0 : w0 + width]
            matrix[f0 : f0 + width, c + 1] += unweights[w0 : w0 + width]
        matrix = matrix[:, 1 : n + 1]
        column = np.abs(matrix).sum(axis=0).max(initial=0.0)
        check(ctx, 65535.0 * column < 2.0**53, "weights too large for the exact filter bank")
        return FilterBankParams(np.ascontiguousarray(matrix), n, 4294967295.0 * column >= 2.0**53)

    def eval(self, params: FilterBankParams, inputs, ctx):
        x = inputs[0]
        if not params.split:
            return [(x.astype(np.float64) @ params.matrix).astype(np.int64).astype(np.uint64)]
        hi = (x >> np.uint32(16)).astype(np.float64) @ params.matrix
        lo = (x & np.uint32(0xFFFF)).astype(np.float64) @ params.matrix
        hi = hi.astype(np.int64).astype(np.uint64) << np.uint64(16)
        return [hi + lo.astype(np.int64).astype(np.uint64)]


def sqrt64(x: np.ndarray) -> np.ndarray:
    """``Sqrt64`` (and ``Sqrt32`` below 2**32): the integer square root rounded to nearest
    (incremented when the remainder exceeds the root), except at the type's maximum root
    (0xFFFF below 2**32, 0xFFFFFFFF above), which is not incremented. Exact for all uint64: the
    float64 root's floor is exact below 2**52 and off by at most one above, which is corrected."""
    x = np.asarray(x, dtype=np.uint64)
    r = np.floor(np.sqrt(x.astype(np.float64)))
    one = np.uint64(1)
    if x.size and x.max() >= np.uint64(1 << 52):
        r = np.minimum(r, 4294967295.0).astype(np.uint64)
        r = np.where(r * r > x, r - one, r)
        nxt = r + one
        r = np.where((r < np.uint64(4294967295)) & (nxt * nxt <= x), nxt, r)
    else:
        r = r.astype(np.uint64)
    cap = np.where(x >> np.uint64(32) == 0, np.uint64(0xFFFF), np.uint64(0xFFFFFFFF))
    return np.where((x - r * r > r) & (r != cap), r + one, r)


@register("SignalFilterBankSquareRoot")
class FilterBankSquareRoot(Kernel):
    """TFLM ``filter_bank_square_root.cc``: ``Sqrt64(x) >> scale_bits`` (see :func:`sqrt64`),
    uint64 in, uint32 out, the shift read from the int32 scalar input of each sample. A shift
    outside 0..31 is undefined in C; the x86-64 build masks it to 5 bits and so does this kernel.
    Tests: random uint64 values over the whole range and near perfect squares, 2**32 boundaries,
    shifts 0..31.
    """

    def prepare(self, ctx: OpContext) -> None:
        check_io(ctx, [np.uint64, np.int32], [np.uint32])
        x, s, out = ctx.input(0), ctx.input(1), ctx.output()
        check(ctx, len(x.shape) == 1 and s.shape == () and out.shape == x.shape,
              "needs a 1-D input, a scalar shift and an output like the input")

    def eval(self, params, inputs, ctx):
        x, shift = inputs
        s = (shift.reshape(shift.shape[0], 1).astype(np.int64) & 31).astype(np.uint64)
        return [((sqrt64(x) & U32) >> s).astype(np.uint32)]


LOG_LUT = np.array(
    [round((math.log2(1 + i / 128) - i / 128) * 65536) for i in range(129)], np.int64)
"""``kLogLut``: 65536 * (log2(1 + i/128) - i/128), rounded (equal to TFLM's table entry for
entry; the test of the log kernel covers every segment). The C kernel receives this table."""


@dataclass
class FilterBankLogParams:
    """SignalFilterBankLog (TFLM ``filter_bank_log.cc``): ``input_correction_bits`` (left shift of
    the input) and ``output_scale`` (the int32 option, used as uint32)."""

    input_correction_bits: int
    output_scale: int


def log32(x: np.ndarray, out_scale: int) -> np.ndarray:
    """``Log32`` for uint32 x > 1: a piecewise-linear log2 (128 segments of the fraction) scaled to
    the natural log (45426 / 65536) and by ``out_scale`` (uint32 products wrap like the C).

    With ``x = m * 2**e`` (``frexp``, exact for uint32), the integer part is ``e - 1`` and the
    C's 16-bit fraction ``(x - 2**(e-1))`` shifted to 16 bits is ``floor((2m - 1) * 65536)``."""
    m, e = np.frexp(x.astype(np.float64))
    frac = np.floor(m * 131072.0 - 65536.0).astype(np.int64)
    seg = frac >> 9
    c0 = LOG_LUT[seg]
    rel = ((LOG_LUT[seg + 1] - c0) * (frac & 511)) >> 16
    log2 = (((e.astype(np.int64) - 1) << 16) + frac + c0 + rel) & 0xFFFFFFFF
    loge = (45426 * log2 + 32768) >> 16
    return ((((out_scale & 0xFFFFFFFF) * loge) & 0xFFFFFFFF) + 32768 & 0xFFFFFFFF) >> 16


@register("SignalFilterBankLog")
class FilterBankLog(Kernel):
    """TFLM ``filter_bank_log.cc`` / ``FilterbankLog``: ``x << input_correction_bits`` (uint32,
    wrapping), then ``min(Log32(v, output_scale), 32767)`` for ``v > 1`` and 0 otherwise, as
    int16. ``kLogLut`` is regenerated from its formula (see ``LOG_LUT``).
    Tests: random uint32 values over the full range and small values (0, 1, 2, powers of two),
    the preprocessor's options and others (correction 0..8, scales incl. ones that wrap).
    """

    def prepare(self, ctx: OpContext) -> FilterBankLogParams:
        check_io(ctx, [np.uint32], [np.int16])
        opts = options(ctx, "input_correction_bits", "output_scale")
        bits, scale = int(opts["input_correction_bits"]), int(opts["output_scale"])
        check(ctx, 0 <= bits < 32, f"input_correction_bits {bits}")
        x, out = ctx.input(0), ctx.output()
        check(ctx, len(x.shape) == 1 and out.shape == x.shape, "needs 1-D input and output alike")
        return FilterBankLogParams(bits, scale)

    def eval(self, params: FilterBankLogParams, inputs, ctx):
        bits, scale = params.input_correction_bits, params.output_scale
        v = (inputs[0].astype(np.int64) << bits) & 0xFFFFFFFF
        out = np.minimum(log32(np.maximum(v, 2), scale), 32767)
        return [np.where(v > 1, out, 0).astype(np.int16)]
