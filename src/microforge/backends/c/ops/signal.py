"""TFLM signal-library operators of audio front ends → ``mf_signal.c`` and, for SignalRfft,
``mf_signal_fft_<type>.c`` (KISS FFT, one template in ``mf_signal_fft.h``).

Every emitter takes its constants from the runtime kernel's ``prepare`` (the window, the KISS FFT
twiddles, stage plan and input permutation, the PCAN gain table, the log table) or from the
operator's constant tables (filter bank), so C and numpy share one parameter computation. The
noise estimate of SignalFilterBankSpectralSubtraction is a state buffer: it persists across
invokes and ``NAME_reset`` zeroes it, as TFLM's reset does.
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.cdata import ctype
from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.signal_fft import FftAutoScaleParams, RfftParams
from microforge.runtime.kernels.signal_filter_bank import (
    LOG_LUT,
    EnergyParams,
    FilterBankLogParams,
    FilterBankParams,
)
from microforge.runtime.kernels.signal_noise import PcanParams, SpectralSubtractionParams
from microforge.runtime.kernels.signal_window import WindowParams
from microforge.runtime.registry import OpContext


def _operand(ctx: OpContext, e: EmitContext, i: int, hint: str) -> str:
    """A C pointer to input ``i``: its data as a constant when it has some, else the tensor."""
    t = ctx.input(i)
    if t is not None and t.data is not None:
        return e.const(hint, np.asarray(t.data).astype(t.dtype))
    return e.input_ptr(i)


@c_emitter("SignalWindow")
class WindowEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: WindowParams) -> OpMemory:
        return OpMemory(inplace=True)

    def emit(self, ctx: OpContext, params: WindowParams, e: EmitContext) -> None:
        length = params.weights.shape[-1]
        p = e.params("mf_signal_window_params", {
            "rows": ctx.input(0).size // length, "length": length, "shift": params.shift,
            "weights": Raw(e.const("window", params.weights.reshape(-1).astype(np.int16))),
        })
        e.call(f"mf_signal_window({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_signal")


@c_emitter("SignalFftAutoScale")
class FftAutoScaleEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: FftAutoScaleParams) -> OpMemory:
        return OpMemory(inplace=True)

    def emit(self, ctx: OpContext, params: FftAutoScaleParams, e: EmitContext) -> None:
        e.call(f"mf_signal_fft_auto_scale({params.length}, {e.input_ptr(0)}, {e.output_ptr(0)}, "
               f"{e.output_ptr(1)});")
        e.use("mf_signal")


_FFT_SUFFIX = {np.dtype(np.int16): "s16", np.dtype(np.int32): "s32", np.dtype(np.float32): "f32"}


@c_emitter("SignalRfft")
class RfftEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: RfftParams) -> OpMemory:
        return OpMemory(scratch=2 * params.fft.ncfft * params.fft.dtype.itemsize)

    def emit(self, ctx: OpContext, params: RfftParams, e: EmitContext) -> None:
        fft = params.fft
        if fft.ncfft > 0xFFFF:
            raise ctx.unsupported(f"fft_length {fft.nfft}: the C kernel takes up to {2 * 0xFFFF}")
        suffix = _FFT_SUFFIX[fft.dtype]
        out = ctx.output()
        stages = np.array([(p, m, fstride) for p, m, fstride, _ in fft.stages], np.int32)
        p = e.params("mf_signal_rfft_params", {
            "rows": out.size // out.shape[-1], "in_len": params.in_len, "ncfft": fft.ncfft,
            "num_stages": len(fft.stages),
            "order": Raw(e.const("order", fft.order.astype(np.uint16))),
            "twiddles": Raw(e.const("twiddles", fft.tw.T.astype(fft.dtype))),
            "super_twiddles": Raw(e.const("super_twiddles", fft.super_tw.T.astype(fft.dtype))),
            "stages": Raw(e.const("stages", stages)),
        })
        e.call(f"mf_signal_rfft_{suffix}({p}, {e.input_ptr(0)}, {e.output_ptr()}, "
               f"({ctype(fft.dtype)} *){e.scratch()});")
        e.use("mf_signal", "mf_signal_fft", f"mf_signal_fft_{suffix}")


@c_emitter("SignalEnergy")
class EnergyEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params: EnergyParams, e: EmitContext) -> None:
        start, end = params.start_index, params.end_index
        p = e.params("mf_signal_energy_params",
                     {"size": ctx.output().shape[0], "start": start, "end": end})
        e.call(f"mf_signal_energy({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_signal")


@c_emitter("SignalFilterBank")
class FilterBankEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params: FilterBankParams, e: EmitContext) -> None:
        names = ["weights", "unweights", "freq_starts", "weight_starts", "widths"]
        tables = [np.asarray(ctx.input(i).data).astype(np.int16) for i in range(1, 6)]
        weights, unweights, _, weight_starts, widths = (t.astype(np.int64) for t in tables)
        n = params.channels + 1
        blocks = (weights.min(initial=0) >= 0 and unweights.min(initial=0) >= 0
                  and (widths[:n] >= 0).all() and (widths[:n] % 4 == 0).all()
                  and (weight_starts[:n] == np.cumsum(widths[:n]) - widths[:n]).all())
        fields: dict = {"channels": params.channels, "blocks": int(bool(blocks))}
        for name, table in zip(names, tables):
            fields[name] = Raw(e.const(name, table))
        p = e.params("mf_signal_filter_bank_params", fields)
        e.call(f"mf_signal_filter_bank({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_signal")


@c_emitter("SignalFilterBankSquareRoot")
class SquareRootEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        shift = _operand(ctx, e, 1, "shift")
        e.call(f"mf_signal_filter_bank_sqrt({ctx.input(0).size}, {_operand(ctx, e, 0, 'x')}, "
               f"{shift}, {e.output_ptr()});")
        e.use("mf_signal")


@c_emitter("SignalFilterBankSpectralSubtraction")
class SpectralSubtractionEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params: SpectralSubtractionParams, e: EmitContext) -> None:
        n = params.channels
        smoothing = [int(v) for v in params.smoothing[:2]] + [0, 0]
        one_minus = [int(v) for v in params.one_minus[:2]] + [0, 0]
        p = e.params("mf_signal_spectral_subtraction_params", {
            "channels": n, "smoothing_bits": int(params.smoothing_bits),
            "subtraction_bits": int(params.subtraction_bits), "clamping": params.clamping,
            "smoothing": smoothing[0], "one_minus_smoothing": one_minus[0],
            "alternate_smoothing": smoothing[1], "alternate_one_minus_smoothing": one_minus[1],
            "min_signal_remaining": int(params.min_remaining),
        })
        state = e.state_buffer("noise", np.uint32, max(n, 1), 0)
        e.call(f"mf_signal_spectral_subtraction({p}, {e.input_ptr(0)}, {e.output_ptr(0)}, "
               f"{e.output_ptr(1)}, {state});")
        e.use("mf_signal")


@c_emitter("SignalPCAN")
class PcanEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params: PcanParams, e: EmitContext) -> None:
        shift, lut = params.snr_shift, params.lut
        p = e.params("mf_signal_pcan_params", {
            "channels": ctx.output().size, "snr_shift": shift,
            "lut": Raw(e.const("gain_lut", lut.astype(np.int16))),
        })
        e.call(f"mf_signal_pcan({p}, {_operand(ctx, e, 0, 'x')}, {_operand(ctx, e, 1, 'noise')}, "
               f"{e.output_ptr()});")
        e.use("mf_signal")


@c_emitter("SignalFilterBankLog")
class FilterBankLogEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: FilterBankLogParams) -> OpMemory:
        return OpMemory(inplace=True)

    def emit(self, ctx: OpContext, params: FilterBankLogParams, e: EmitContext) -> None:
        bits, scale = params.input_correction_bits, params.output_scale
        p = e.params("mf_signal_log_params", {
            "channels": ctx.output().size, "correction_bits": bits,
            "output_scale": scale & 0xFFFFFFFF,
            "lut": Raw(e.const("log_lut", LOG_LUT.astype(np.uint16))),
        })
        e.call(f"mf_signal_filter_bank_log({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_signal")
