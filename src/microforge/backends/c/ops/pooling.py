"""AVERAGE_POOL_2D / MAX_POOL_2D (int8) → ``mf_pooling.c``."""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, c_emitter
from microforge.planner.inplace import max_safe_shift, window_first_read
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.registry import OpContext


@c_emitter("AVERAGE_POOL_2D", "MAX_POOL_2D")
class PoolEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        """The C kernels read a window of one channel, then write that output element."""
        if params.dtype != np.int8:
            return OpMemory()
        g, channels = params.geometry, ctx.input(0).shape[3]
        pixels = window_first_read(g.out_h, g.out_w, g.stride_h, g.stride_w, g.pad_top,
                                   g.pad_left, g.in_h, g.in_w).reshape(-1, 1) * channels
        c = np.arange(channels, dtype=np.int64)[None, :]
        first = pixels + c
        ends = np.arange(pixels.shape[0], dtype=np.int64)[:, None] * channels + c + 1
        return OpMemory(inplace=True, inplace_shift=max_safe_shift(first, ends))

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        if params.dtype != np.int8:
            raise ctx.unsupported("only int8 pooling has a C kernel yet")
        g = params.geometry
        fields = {
            "in_h": g.in_h, "in_w": g.in_w, "channels": ctx.input(0).shape[3],
            "out_h": g.out_h, "out_w": g.out_w, "k_h": g.k_h, "k_w": g.k_w,
            "stride_h": g.stride_h, "stride_w": g.stride_w,
            "pad_top": g.pad_top, "pad_left": g.pad_left,
            "act_min": int(params.low), "act_max": int(params.high),
        }
        p = e.params("mf_pool_s8_params", fields)
        fn = "mf_average_pool_s8" if ctx.op.opcode == "AVERAGE_POOL_2D" else "mf_max_pool_s8"
        e.call(f"{fn}({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        e.use("mf_pooling")
