"""FULLY_CONNECTED (int8, float32) → ``mf_fully_connected.c``."""

from __future__ import annotations

import numpy as np

from microforge.codegen.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.runtime.registry import OpContext


@c_emitter("FULLY_CONNECTED")
class FullyConnectedEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        x = ctx.input(0)
        if x.dtype == np.float32:
            self._float(ctx, params, e)
            return
        if x.dtype != np.int8 or params.int64_accumulator:
            raise ctx.unsupported("only int8 and float32 FULLY_CONNECTED have a C kernel yet")
        weights = np.asarray(params.weights).T.astype(np.int64)  # [depth][accum]
        if weights.min(initial=0) < -128 or weights.max(initial=0) > 127:
            raise ctx.unsupported("weights with a zero point have no C kernel yet")
        constant = params.constant.astype(np.int64)
        constant = ((constant + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)  # int32 wrap, as in C
        depth = weights.shape[0]
        fields = {
            "rows": params.rows, "accum": weights.shape[1], "depth": depth,
            "output_offset": params.output_zero_point,
            "act_min": params.act_min, "act_max": params.act_max,
            "per_channel": int(np.size(params.multiplier) > 1),
            "weights": Raw(e.const("w", weights.astype(np.int8))),
            "constant": Raw(e.const("constant", constant.astype(np.int32))),
            "multiplier": Raw(e.const("mult", np.asarray(params.multiplier).astype(np.int32))),
            "shift": Raw(e.const("shift", np.asarray(params.shift).astype(np.int32))),
        }
        p = e.params("mf_fc_s8_params", fields)
        e.call(f"mf_fully_connected_s8({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_fully_connected")

    @staticmethod
    def _float(ctx: OpContext, params, e: EmitContext) -> None:
        depth = params.bias.shape[0]
        weights = np.asarray(params.weights)[:, :depth].T  # [depth][accum]
        has_bias = ctx.input(2) is not None
        fields = {
            "rows": params.rows, "accum": weights.shape[1], "depth": depth,
            "act_min": float(params.act_min), "act_max": float(params.act_max),
            "weights": Raw(e.const("w", np.ascontiguousarray(weights, np.float32))),
            "bias": Raw(e.const("bias", params.bias)) if has_bias else None,
        }
        p = e.params("mf_fc_f32_params", fields)
        e.call(f"mf_fully_connected_f32({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_fully_connected")
