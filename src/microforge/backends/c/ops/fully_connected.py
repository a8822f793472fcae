"""FULLY_CONNECTED (int8, float32) → ``mf_fully_connected.c``.

int8: the weights stay [depth][accum] (weight offset applied), the input offset and the bias fold
into one per-output constant, the requantization shift splits into left and right shifts for
``mf_requantize``; the input row is widened to int16 in scratch for the dot products (in
chunks of ``CHUNK`` elements when longer).
float32: the weights are stored [accum][depth rounded up to 4] (one row per input element, zero
columns past depth), so that the kernel advances several outputs per instruction while each output
keeps TFLM's sequential sum.
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.errors import UnsupportedOpError
from microforge.fixedpoint import wrap_int32
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.fully_connected import (
    FullyConnectedFloatParams,
    FullyConnectedQuantParams,
)
from microforge.runtime.registry import OpContext

# int32 dot products of int16-widened int8 inputs and int8 weights stay exact below this length.
MAX_ACCUM = (1 << 31) // (128 * 128)
# Input elements widened to int16 at a time: longer rows go in chunks (128 bytes of scratch).
CHUNK = 64


def requantize_fields(ctx: OpContext, multiplier, shift) -> tuple[np.ndarray, ...]:
    """Multipliers and the left / right shifts of ``mf_requantize`` (non-negative multipliers)."""
    m = np.asarray(multiplier, np.int64).reshape(-1)
    s = np.asarray(shift, np.int64).reshape(-1)
    if m.min(initial=0) < 0 or np.abs(s).max(initial=0) > 31:
        raise ctx.unsupported("requantization multiplier below 0 or shift beyond +-31")
    return m.astype(np.int32), np.maximum(s, 0).astype(np.int32), np.maximum(-s, 0).astype(np.int32)


def _check_s8(ctx: OpContext, params: FullyConnectedQuantParams) -> np.ndarray:
    """The weights as [depth][accum]; UnsupportedOpError for what the int8 C kernel does not run."""
    if ctx.input(0).dtype != np.int8 or params.int64_accumulator:
        raise ctx.unsupported("only int8 and float32 FULLY_CONNECTED have a C kernel yet")
    weights = np.asarray(params.weights).T.astype(np.int64)  # [depth][accum]
    if weights.min(initial=0) < -128 or weights.max(initial=0) > 127:
        raise ctx.unsupported("weights with a zero point have no C kernel yet")
    if weights.shape[1] >= MAX_ACCUM:
        raise ctx.unsupported("FULLY_CONNECTED too deep for int32 dot products")
    requantize_fields(ctx, params.multiplier, params.shift)
    return weights


def s8_supported(ctx: OpContext, params) -> bool:
    """Whether the operator runs in the int8 C kernel (``mf_fully_connected_s8``)."""
    if not isinstance(params, FullyConnectedQuantParams):
        return False
    try:
        _check_s8(ctx, params)
    except UnsupportedOpError:
        return False
    return True


def s8_params(ctx: OpContext, params: FullyConnectedQuantParams, e: EmitContext) -> str:
    """Declare the int8 kernel's constants and ``mf_fc_s8_params`` in ``e``; returns its name.
    Refuses (UnsupportedOpError) what the C kernel does not run."""
    weights = _check_s8(ctx, params)
    multiplier, left, right = requantize_fields(ctx, params.multiplier, params.shift)
    fields = {
        "rows": params.rows, "accum": weights.shape[1], "depth": weights.shape[0],
        "chunk": CHUNK, "output_offset": params.output_zero_point,
        "act_min": params.act_min, "act_max": params.act_max,
        "channel_mask": -1 if multiplier.size > 1 else 0,
        "weights": Raw(e.const("w", weights.astype(np.int8))),
        "constant": Raw(e.const("constant", wrap_int32(params.constant).astype(np.int32))),
        "multiplier": Raw(e.const("mult", multiplier)),
        "left_shift": Raw(e.const("left", left)),
        "right_shift": Raw(e.const("right", right)),
    }
    return e.params("mf_fc_s8_params", fields)


def s8_scratch(params: FullyConnectedQuantParams) -> int:
    """Bytes of scratch the int8 kernel needs (the input widened to int16, a chunk at a time)."""
    return 2 * min(params.weights.shape[0], CHUNK)


@c_emitter("FULLY_CONNECTED")
class FullyConnectedEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: FullyConnectedQuantParams | FullyConnectedFloatParams
               ) -> OpMemory:
        if ctx.input(0).dtype == np.int8:
            return OpMemory(scratch=s8_scratch(params))
        return OpMemory()

    def emit(self, ctx: OpContext, params: FullyConnectedQuantParams | FullyConnectedFloatParams,
             e: EmitContext) -> None:
        if isinstance(params, FullyConnectedFloatParams):
            self._float(params, e)
            return
        p = s8_params(ctx, params, e)
        e.call(f"mf_fully_connected_s8({p}, {e.input_ptr(0)}, {e.output_ptr()}, "
               f"(int16_t *){e.scratch()});")
        e.use("mf_fully_connected")

    @staticmethod
    def _float(params: FullyConnectedFloatParams, e: EmitContext) -> None:
        depth = params.bias.shape[0]
        stride = -(-depth // 4) * 4
        accum = params.weights.shape[0]
        weights = np.zeros((accum, stride), np.float32)  # [accum][stride]
        weights[:, :depth] = np.asarray(params.weights)[:, :depth]
        bias = np.zeros(stride, np.float32)  # zeros past depth: the SSE2 stage reads whole vectors
        bias[:depth] = params.bias
        fields = {
            "rows": params.rows, "accum": accum, "depth": depth, "stride": stride,
            "act_min": float(params.act_min), "act_max": float(params.act_max),
            "weights": Raw(e.const("w", weights)),
            "bias": Raw(e.const("bias", bias)),
        }
        p = e.params("mf_fc_f32_params", fields)
        e.call(f"mf_fully_connected_f32({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_fully_connected")
