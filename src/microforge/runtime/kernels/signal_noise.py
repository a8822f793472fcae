"""Signal-library noise handling: SignalFilterBankSpectralSubtraction (stateful) and SignalPCAN
(``signal/src/filter_bank_spectral_subtraction.cc``, ``pcan_argc_fixed.cc``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.runtime.kernels.signal_common import check, check_io, constant, options
from microforge.runtime.registry import Kernel, OpContext, register

U32 = np.uint64(0xFFFFFFFF)

_SUBTRACTION_KEYS = (
    "alternate_one_minus_smoothing", "alternate_smoothing", "clamping", "min_signal_remaining",
    "num_channels", "one_minus_smoothing", "smoothing", "smoothing_bits",
    "spectral_subtraction_bits",
)


@dataclass
class SpectralSubtractionParams:
    """SignalFilterBankSpectralSubtraction (TFLM's ``SpectralSubtractionConfig``): ``channels``;
    per channel, ``smoothing`` / ``one_minus`` (uint64 values of the uint32 coefficients: even
    channels the smoothing options, odd ones the alternate ones); ``min_remaining``,
    ``smoothing_bits``, ``subtraction_bits`` (uint64) and ``clamping``."""

    channels: int
    smoothing: np.ndarray
    one_minus: np.ndarray
    min_remaining: np.uint64
    smoothing_bits: np.uint64
    subtraction_bits: np.uint64
    clamping: bool


@dataclass
class PcanParams:
    """SignalPCAN: ``snr_shift`` (option) and the gain ``lut`` (int64 values of the constant int16
    table)."""

    snr_shift: int
    lut: np.ndarray


def _u32(value: int) -> np.uint64:
    """An int32 option stored in a uint32_t config field."""
    return np.uint64(int(value) & 0xFFFFFFFF)


@register("SignalFilterBankSpectralSubtraction")
class SpectralSubtraction(Kernel):
    """TFLM ``filter_bank_spectral_subtraction.cc``: per channel, a noise estimate smoothed over
    time (``(s * smoothing + noise * (1 - smoothing)) >> spectral_subtraction_bits`` on the input
    scaled up by ``smoothing_bits``; odd channels use the alternate coefficients) is subtracted
    from the signal, with a floor of ``x * min_signal_remaining >> spectral_subtraction_bits``.
    Outputs the result and a copy of the new estimate. uint32 values, uint64 products (a sum of
    two products wraps modulo 2**64 like the C), uint32 truncation where the C stores.

    The noise estimate is the operator's own state (TFLM's persistent buffer, zeroed by prepare
    and by reset): one row per batch sample, kept across ``run()`` calls, cleared by
    ``Model.reset()``. Tests: 200-frame random sequences (full range and realistic magnitudes)
    with the preprocessor's options and with clamping, batch rows checked against separate TFLM
    runs, reset in the middle of a sequence.
    """

    def prepare(self, ctx: OpContext) -> SpectralSubtractionParams:
        check_io(ctx, [np.uint32], [np.uint32, np.uint32])
        o = options(ctx, *_SUBTRACTION_KEYS)
        n = int(o["num_channels"])
        for t in (ctx.input(0), ctx.output(0), ctx.output(1)):
            check(ctx, t.shape == (n,), f"tensors must have shape ({n},) (num_channels)")
        bits, sub_bits = int(o["smoothing_bits"]), int(o["spectral_subtraction_bits"])
        check(ctx, 0 <= bits < 32 and 0 <= sub_bits < 64, "shift amounts out of range")
        even = np.arange(n) % 2 == 0
        return SpectralSubtractionParams(
            channels=n,
            smoothing=np.where(even, _u32(o["smoothing"]), _u32(o["alternate_smoothing"])),
            one_minus=np.where(even, _u32(o["one_minus_smoothing"]),
                               _u32(o["alternate_one_minus_smoothing"])),
            min_remaining=_u32(o["min_signal_remaining"]),
            smoothing_bits=np.uint64(bits),
            subtraction_bits=np.uint64(sub_bits),
            clamping=bool(o["clamping"]),
        )

    def initial_state(self, params: SpectralSubtractionParams) -> list[np.ndarray]:
        return [np.zeros(params.channels, np.uint32)]

    def eval(self, params: SpectralSubtractionParams, inputs, ctx):
        x, state = inputs[0].astype(np.uint64), inputs[1]
        p = params
        scaled = (x << p.smoothing_bits) & U32
        noise = ((scaled * p.smoothing + state.astype(np.uint64) * p.one_minus)
                 >> p.subtraction_bits) & U32
        estimate = np.minimum(noise, scaled)
        if p.clamping:
            noise = estimate
        floor = ((x * p.min_remaining) >> p.subtraction_bits) & U32
        subtracted = (scaled - estimate) >> p.smoothing_bits
        state[...] = noise
        return [np.maximum(subtracted, floor).astype(np.uint32), noise.astype(np.uint32)]


def wide_dynamic_function(x: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """``WideDynamicFunction``: the PCAN gain for noise estimates x (uint32 values in an int64
    array) from the int16 ``lut``, returned as the int16 value (in int64).

    For x > 2 with ``x = m * 2**e`` (``frexp``, exact), ``e`` is ``MostSignificantBit32(x)`` and
    the C's 10-bit fraction (x shifted to 11 bits, top bit dropped) is ``floor(m * 2048) - 1024``."""
    m, e = np.frexp(np.maximum(x, 3).astype(np.float64))
    base = 4 * e.astype(np.int64) - 6
    frac = np.floor(m * 2048.0).astype(np.int64) - 1024
    result = (lut[base + 2] * frac) >> 5
    result = _wrap32(result + lut[base + 1] * 32)
    result = _wrap32(result * frac)
    result = _wrap32(result + (1 << 14)) >> 15
    result = result + lut[base]
    result = ((result + 32768) & 0xFFFF) - 32768
    return np.where(x <= 2, lut[np.minimum(x, 2)], result)


def _wrap32(x: np.ndarray) -> np.ndarray:
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


@register("SignalPCAN")
class Pcan(Kernel):
    """TFLM ``pcan.cc`` / ``ApplyPcanAutoGainControlFixed``: per channel, the gain
    ``WideDynamicFunction(noise_estimate, lut)`` (int16, the int32 intermediate products wrap as
    the C does), ``snr = (x * uint32(gain)) >> snr_shift`` (uint64 product, truncated to uint32),
    then ``PcanShrink`` (``snr**2 >> 20`` below 8192, else ``(snr >> 6) - 64``). The gain table
    must be constant with at least 125 entries (the largest index TFLM can read).
    Tests: random uint32 inputs and noise estimates (full range and realistic), the
    preprocessor's table and random tables (int32 wrap-around), snr_shift 0..8.
    """

    def prepare(self, ctx: OpContext) -> PcanParams:
        check_io(ctx, [np.uint32, np.uint32, np.int16], [np.uint32])
        shift = int(options(ctx, "snr_shift")["snr_shift"])
        check(ctx, 0 <= shift < 64, f"snr_shift {shift}")
        x, noise, out = ctx.input(0), ctx.input(1), ctx.output()
        check(ctx, len(x.shape) == 1 and noise.shape == x.shape and out.shape == x.shape,
              "input, noise estimate and output must be 1-D of one length")
        lut = constant(ctx, 2).astype(np.int64).reshape(-1)
        check(ctx, lut.size >= 125, f"gain table of {lut.size} entries (at least 125 needed)")
        return PcanParams(shift, lut)

    def eval(self, params: PcanParams, inputs, ctx):
        shift, lut = params.snr_shift, params.lut
        x, noise = inputs[0].astype(np.uint64), inputs[1].astype(np.int64)
        gain = (wide_dynamic_function(noise, lut) & 0xFFFFFFFF).astype(np.uint64)
        snr = ((x * gain) >> np.uint64(shift)) & U32
        # the unselected branch may wrap (uint64), harmlessly
        shrunk = np.where(snr < 8192, (snr * snr) >> np.uint64(20),
                          (snr >> np.uint64(6)) - np.uint64(64))
        return [shrunk.astype(np.uint32)]
