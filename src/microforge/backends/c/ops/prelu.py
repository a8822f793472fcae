"""PRELU → ``mf_prelu.c``: the broadcast of input and alpha is reduced at compile time to at most
``MAX_DIMS`` collapsed dimensions with a stride per operand (0 where it broadcasts); the constants
are the runtime kernel's prepared :class:`~microforge.runtime.kernels.prelu.PreluParams`."""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, Raw, c_emitter
from microforge.backends.c.ops.elementwise import broadcast_plan, operand_ptr
from microforge.backends.c.sources import header_define
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.prelu import PreluParams
from microforge.runtime.registry import OpContext

MAX_DIMS = header_define("mf_prelu.h", "MF_PRELU_MAX_DIMS")
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.int8): "s8", np.dtype(np.int16): "s16"}


def _c_array(values) -> Raw:
    return Raw("{" + ", ".join(str(int(v)) for v in values) + "}")


def _split(k: str, multiplier: tuple[int, int]) -> dict[str, int]:
    """A (Q31 multiplier, shift) pair as mf_requantize takes it: the shift split into left and
    right parts."""
    q, shift = multiplier
    return {f"m{k}": q, f"l{k}": max(shift, 0), f"r{k}": max(-shift, 0)}


@c_emitter("PRELU")
class PreluEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params: PreluParams) -> OpMemory:
        return OpMemory(inplace=ctx.input(0).size == ctx.output().size)

    def emit(self, ctx: OpContext, params: PreluParams, e: EmitContext) -> None:
        x, alpha, out = ctx.input(0), ctx.input(1), ctx.output()
        if out.size == 0:
            return
        dims, x_strides, a_strides = broadcast_plan(x.shape, alpha.shape)
        if len(dims) > MAX_DIMS:
            raise ctx.unsupported(f"broadcast over {len(dims)} collapsed dimensions")
        fields = {
            "ndims": len(dims), "rows": int(np.prod(dims[:-1], dtype=np.int64)),
            "inner": dims[-1], "dims": _c_array(dims),
            "x_stride": _c_array(x_strides), "a_stride": _c_array(a_strides),
        }
        if params.kind == "quant":
            fields.update({
                "zp_in": params.zp_in, "zp_alpha": params.zp_alpha, "zp_out": params.zp_out,
                **_split("1", params.m_identity), **_split("2", params.m_alpha),
                "lo": params.lo, "hi": params.hi,
            })
        p = e.params("mf_prelu_params", fields)
        e.call(f"mf_prelu_{_SUFFIX[out.dtype]}({p}, {operand_ptr(ctx, e, 0)}, "
               f"{operand_ptr(ctx, e, 1)}, {e.output_ptr()});")
        e.use("mf_prelu")
