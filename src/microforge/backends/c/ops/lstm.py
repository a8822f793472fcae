"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8 with int16 cell state, float32) → ``mf_lstm.c``.

Every constant comes from the runtime kernel's prepare params. int8: weights as one row per gate
unit, zero-padded to a multiple of 16 (the kernel's int16 copies of x and h are padded alike, so
its dot products run without tails), the input and hidden zero points folded into per-row
constants, per-gate multipliers with the shift split into left / right shifts. float32: weights as
one row per input element holding that input's weight for all 4 * units gate rows, so that many
gate rows advance per instruction while each keeps TFLM's sequential sum.
The hidden and cell states are the op's variable tensors (static state buffers); the gate
pre-activations of one sequence row (and the int8 kernel's int16 rows) live in scratch. The float
kernel computes glibc's expf / tanhf (SSE2 versions on the host, the C library's functions
elsewhere): byte-identical to the runtime with glibc, possibly an ulp off with a device libm.
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.backends.c.ops.activations_wide import lut16_prescale
from microforge.backends.c.ops.fully_connected import MAX_ACCUM, requantize_fields
from microforge.fixedpoint import wrap_int32
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.lstm import CELL_STATE, HIDDEN_STATE, LstmFloatParams, LstmIntParams
from microforge.runtime.registry import OpContext


def _round16(n: int) -> int:
    return -(-n // 16) * 16


def _padded(weights: np.ndarray, stride: int) -> np.ndarray:
    """[rows][n] int8 rows zero-padded to [rows][stride]."""
    out = np.zeros((weights.shape[0], stride), np.int8)
    out[:, :weights.shape[1]] = weights
    return out


def _requant(ctx: OpContext, multiplier, shift) -> dict:
    m, left, right = requantize_fields(ctx, multiplier, shift)
    return {"multiplier": int(m[0]), "left": int(left[0]), "right": int(right[0])}


def _per_gate(ctx: OpContext, mult: tuple[np.ndarray, np.ndarray], units: int) -> list[dict]:
    q = np.asarray(mult[0]).reshape(4, units)[:, 0]
    s = np.asarray(mult[1]).reshape(4, units)[:, 0]
    return [_requant(ctx, q[g], s[g]) for g in range(4)]


def _struct(value) -> Raw:
    """A C initializer for nested params: dicts become { .field = ... }, lists { ..., ... }."""
    if isinstance(value, dict):
        return Raw("{" + ", ".join(f".{k} = {_struct(v)}" for k, v in value.items()) + "}")
    if isinstance(value, list):
        return Raw("{" + ", ".join(_struct(v) for v in value) + "}")
    return Raw(str(int(value)))


@c_emitter("UNIDIRECTIONAL_SEQUENCE_LSTM")
class LstmEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: LstmIntParams | LstmFloatParams) -> OpMemory:
        units = params.layout.units
        if isinstance(params, LstmFloatParams):
            return OpMemory(scratch=8 * units * 4)
        n_in = ctx.input(0).shape[-1]
        return OpMemory(scratch=2 * (_round16(n_in) + _round16(units) + 4 * units))

    def emit(self, ctx: OpContext, params: LstmIntParams | LstmFloatParams, e: EmitContext) -> None:
        lay = params.layout
        n_in = ctx.input(0).shape[-1]
        fields = {"batch": lay.batch, "steps": lay.steps, "n_in": n_in, "units": lay.units,
                  "time_major": lay.time_major}
        state = f"{e.input_ptr(0)}, {e.input_ptr(HIDDEN_STATE)}, {e.input_ptr(CELL_STATE)}, {e.output_ptr()}"
        if isinstance(params, LstmFloatParams):
            fields.update({
                "w_input": Raw(e.const("w_in", np.asarray(params.w_input, np.float32).T)),
                "w_recurrent": Raw(e.const("w_rec", np.asarray(params.w_recurrent, np.float32).T)),
                "bias": Raw(e.const("bias", params.bias.astype(np.float32))),
                "cell_clip": float(params.cell_clip),
            })
            p = e.params("mf_lstm_f32_params", fields)
            e.call(f"mf_lstm_f32({p}, {state}, (float *){e.scratch()});")
        else:
            fields.update(self._int_fields(ctx, params, e))
            p = e.params("mf_lstm_s8_params", fields)
            e.call(f"mf_lstm_s8({p}, {state}, (int16_t *){e.scratch()});")
        e.use("mf_lstm", "mf_activations", "mf_fully_connected")

    @staticmethod
    def _int_fields(ctx: OpContext, params: LstmIntParams, e: EmitContext) -> dict:
        units = params.layout.units
        w_in = np.asarray(params.w_input).T.astype(np.int64)  # [4 * units][n_in]
        w_rec = np.asarray(params.w_recurrent).T.astype(np.int64)  # [4 * units][units]
        in_stride, rec_stride = _round16(w_in.shape[1]), _round16(units)
        if max(in_stride, rec_stride) >= MAX_ACCUM:
            raise ctx.unsupported("LSTM too wide for int32 dot products")
        input_constant = wrap_int32(params.bias - params.input_zp * w_in.sum(axis=1))
        recurrent_constant = wrap_int32(-params.hidden_zp * w_rec.sum(axis=1))
        tanh_multiplier, tanh_shift = lut16_prescale(params.cell_tanh_multiplier,
                                                     params.cell_tanh_shift)
        clip = params.cell_clip
        return {
            "in_stride": in_stride, "rec_stride": rec_stride,
            "w_input": Raw(e.const("w_in", _padded(w_in, in_stride))),
            "w_recurrent": Raw(e.const("w_rec", _padded(w_rec, rec_stride))),
            "input_constant": Raw(e.const("in_const", input_constant.astype(np.int32))),
            "recurrent_constant": Raw(e.const("rec_const", recurrent_constant.astype(np.int32))),
            "input_rq": _struct(_per_gate(ctx, params.input_mult, units)),
            "recurrent_rq": _struct(_per_gate(ctx, params.recurrent_mult, units)),
            "forget_rq": _struct(_requant(ctx, *params.forget_mult)),
            "input_cell_rq": _struct(_requant(ctx, *params.input_cell_mult)),
            "hidden_rq": _struct(_requant(ctx, *params.hidden_mult)),
            "hidden_zp": params.hidden_zp,
            "cell_min": -clip if clip else -32768, "cell_max": clip if clip else 32767,
            "cell_tanh_multiplier": tanh_multiplier, "cell_tanh_shift": tanh_shift,
        }
