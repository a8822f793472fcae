"""SOFTMAX (int8 → int8/int16, float32) → ``mf_softmax.c``, with the runtime's exp tables."""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.runtime.kernels.softmax import SoftmaxFloatParams, SoftmaxInt8Params
from microforge.runtime.registry import OpContext


@c_emitter("SOFTMAX")
class SoftmaxEmitter(OpEmitter):
    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        x, out = ctx.input(0), ctx.output()
        depth = x.shape[-1] if x.shape else 1
        rows = x.size // max(depth, 1)
        if isinstance(params, SoftmaxFloatParams):
            p = e.params("mf_softmax_f32_params",
                         {"rows": rows, "depth": depth, "beta": float(params.beta)})
            e.call(f"mf_softmax_f32({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        elif isinstance(params, SoftmaxInt8Params):
            valid = np.asarray(params.valid)
            min_index = int(np.argmax(valid)) if valid.any() else 256
            fields = {
                "rows": rows, "depth": depth, "min_index": min_index,
                "exp": Raw(e.const("exp", np.asarray(params.exp).astype(np.int32))),
                "summand": Raw(e.const("summand", np.asarray(params.summand).astype(np.int32))),
            }
            p = e.params("mf_softmax_s8_params", fields)
            suffix = "s8" if out.dtype == np.int8 else "s16"
            e.call(f"mf_softmax_s8_{suffix}({p}, {e.input_ptr(0)}, {e.output_ptr()});")
        else:
            raise ctx.unsupported("int16-input SOFTMAX has no C kernel yet")
        e.use("mf_softmax")
