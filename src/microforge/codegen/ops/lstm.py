"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8 with int16 cell state, float32) → ``mf_lstm.c``.

Every constant comes from the runtime kernel's prepare params: weights transposed to one row per
gate unit, the input and hidden zero points folded into per-row constants, per-gate multipliers.
The hidden and cell states are the op's variable tensors (static state buffers); the gate
pre-activations of one sequence row live in scratch. The float kernel calls the C library's expf /
tanhf: byte-identical to the runtime with glibc (the host), possibly an ulp off with a device libm.
"""

from __future__ import annotations

import numpy as np

from microforge.codegen.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.codegen.ops.activations_wide import lut16_prescale
from microforge.fixedpoint import tanh_int16_lut, wrap_int32
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.logistic_tanh import checked_log2
from microforge.runtime.kernels.lstm import _CELL, _HIDDEN, _FloatParams, _IntParams
from microforge.runtime.registry import OpContext

_ALL_INT16 = np.arange(-32768, 32768, dtype=np.int64)


def _cell_tanh_prescale(ctx: OpContext, params: _IntParams) -> tuple[int, int]:
    """The LUT input scaling of tanh(cell) (TFLM: shift from CheckedLog2 of the cell scale), checked
    against the runtime's table of that tanh."""
    power, _ = checked_log2(float(np.float32(ctx.input(_CELL).scale)))
    shift = 15 + power - 3
    multiplier, shift = lut16_prescale(0 if shift >= 0 else 3, abs(shift))
    if not np.array_equal(tanh_int16_lut(_ALL_INT16, multiplier, shift), params.cell_tanh_table):
        raise ctx.unsupported("tanh(cell) scaling differs from the runtime's")
    return multiplier, shift


def _shifts_ok(*shifts) -> bool:
    return all(-31 <= int(s) <= 31 for s in np.concatenate([np.ravel(s) for s in shifts]))


def _interleave4(weights: np.ndarray) -> np.ndarray:
    """[4 * units][n] float rows as [units][n][4]: four rows side by side for ``mf_dot4_f32``."""
    w = np.asarray(weights, np.float32)
    return np.ascontiguousarray(w.reshape(-1, 4, w.shape[1]).transpose(0, 2, 1))


def _per_gate(values: np.ndarray, units: int) -> np.ndarray:
    return np.asarray(values).reshape(4, units)[:, 0].astype(np.int32)


@c_emitter("UNIDIRECTIONAL_SEQUENCE_LSTM")
class LstmEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        item = 4 if isinstance(params, _FloatParams) else 2
        return OpMemory(scratch=4 * params.layout.units * item)

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        lay = params.layout
        n_in = ctx.input(0).shape[-1]
        fields = {"batch": lay.batch, "steps": lay.steps, "n_in": n_in, "units": lay.units,
                  "time_major": lay.time_major}
        state = f"{e.input_ptr(0)}, {e.input_ptr(_HIDDEN)}, {e.input_ptr(_CELL)}, {e.output_ptr()}"
        if isinstance(params, _FloatParams):
            fields.update({
                "w_input": Raw(e.const("w_in", _interleave4(params.w_input))),
                "w_recurrent": Raw(e.const("w_rec", _interleave4(params.w_recurrent))),
                "bias": Raw(e.const("bias", params.bias.astype(np.float32))),
                "cell_clip": float(params.cell_clip),
            })
            p = e.params("mf_lstm_f32_params", fields)
            e.call(f"mf_lstm_f32({p}, {state}, (float *){e.scratch()});")
        else:
            fields.update(self._int_fields(ctx, params, e))
            p = e.params("mf_lstm_s8_params", fields)
            e.call(f"mf_lstm_s8({p}, {state}, (int16_t *){e.scratch()});")
        e.use("mf_lstm", "mf_activations")

    @staticmethod
    def _int_fields(ctx: OpContext, params: _IntParams, e: EmitContext) -> dict:
        units = params.layout.units
        w_in = np.asarray(params.w_input).T.astype(np.int64)  # [4 * units][n_in]
        w_rec = np.asarray(params.w_recurrent).T.astype(np.int64)  # [4 * units][units]
        if 128 * 128 * max(w_in.shape[1], units) >= 1 << 31:
            raise ctx.unsupported("LSTM too wide for int32 dot products")
        mults = (params.input_mult, params.recurrent_mult, params.forget_mult,
                 params.input_cell_mult, params.hidden_mult)
        if not _shifts_ok(*(m[1] for m in mults)):
            raise ctx.unsupported("LSTM requantization shift beyond +-31")
        input_constant = wrap_int32(params.bias - params.input_zp * w_in.sum(axis=1))
        recurrent_constant = wrap_int32(-params.hidden_zp * w_rec.sum(axis=1))
        tanh_multiplier, tanh_shift = _cell_tanh_prescale(ctx, params)
        clip = params.cell_clip
        return {
            "w_input": Raw(e.const("w_in", w_in.astype(np.int8))),
            "w_recurrent": Raw(e.const("w_rec", w_rec.astype(np.int8))),
            "input_constant": Raw(e.const("in_const", input_constant.astype(np.int32))),
            "recurrent_constant": Raw(e.const("rec_const", recurrent_constant.astype(np.int32))),
            "input_multiplier": Raw(e.const("in_mult", _per_gate(params.input_mult[0], units))),
            "input_shift": Raw(e.const("in_shift", _per_gate(params.input_mult[1], units))),
            "recurrent_multiplier": Raw(
                e.const("rec_mult", _per_gate(params.recurrent_mult[0], units))),
            "recurrent_shift": Raw(e.const("rec_shift", _per_gate(params.recurrent_mult[1], units))),
            "forget_multiplier": params.forget_mult[0], "forget_shift": params.forget_mult[1],
            "input_cell_multiplier": params.input_cell_mult[0],
            "input_cell_shift": params.input_cell_mult[1],
            "hidden_multiplier": params.hidden_mult[0], "hidden_shift": params.hidden_mult[1],
            "hidden_zp": params.hidden_zp,
            "cell_min": -clip if clip else -32768, "cell_max": clip if clip else 32767,
            "cell_tanh_multiplier": tanh_multiplier, "cell_tanh_shift": tanh_shift,
        }
