"""QUANTIZE / DEQUANTIZE of non-int8 inputs → ``mf_quantize.c``.

int8 inputs stay with the lookup-table emitter (``lut.py``), which hands every other input type
over to this one. The C code uses the runtime kernel's prepared constants: ``Requantize``
(integer → integer), ``AffineQuantize`` (float32 → int8/int16) and the double-precision
DEQUANTIZE.
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter
from microforge.backends.c.ops.lut import wider_input_emitter
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.kernels.quantize import (
    AffineQuantizeParams,
    DequantizeParams,
    RequantizeParams,
)
from microforge.runtime.registry import OpContext

SUFFIX = {np.dtype(np.int8): "s8", np.dtype(np.uint8): "u8", np.dtype(np.int16): "s16",
          np.dtype(np.int32): "s32", np.dtype(np.float32): "f32", np.dtype(np.uint32): "u32"}

_REQUANTIZE = {("u8", "s8"), ("s16", "s8"), ("s16", "s16"), ("s16", "s32"), ("s32", "s8"),
               ("s32", "s16")}


@wider_input_emitter("QUANTIZE", "DEQUANTIZE")
class QuantizeEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        return OpMemory(inplace=ctx.input(0).dtype.itemsize == ctx.output().dtype.itemsize)

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        src, dst = SUFFIX.get(ctx.input(0).dtype), SUFFIX.get(ctx.output().dtype)
        args = f"{e.input_ptr(0)}, {e.output_ptr()}, {ctx.output().size}"
        if isinstance(params, RequantizeParams):
            if (src, dst) not in _REQUANTIZE:
                raise ctx.unsupported(f"QUANTIZE {src} -> {dst} has no C kernel")
            info = np.iinfo(params.dtype)
            p = e.params("mf_requantize_params", {
                "multiplier": params.multiplier, "shift": params.shift,
                "input_zp": params.input_zero_point, "output_zp": params.output_zero_point,
                "out_min": int(info.min), "out_max": int(info.max),
            })
            e.call(f"mf_requantize_{src}_{dst}({p}, {args});")
        elif isinstance(params, AffineQuantizeParams):
            info = np.iinfo(params.dtype)
            p = e.params("mf_affine_quantize_params", {
                "scale": float(params.scale), "zero_point": params.zero_point,
                "out_min": int(info.min), "out_max": int(info.max),
            })
            e.call(f"mf_affine_quantize_f32_{dst}({p}, {args});")
        elif isinstance(params, DequantizeParams) and src in ("u8", "s16"):
            p = e.params("mf_dequantize_params",
                         {"scale": float(np.float32(params.scale)), "zero_point": params.zero_point})
            e.call(f"mf_dequantize_{src}_f32({p}, {args});")
        else:
            raise ctx.unsupported(f"{ctx.op.opcode} {src} -> {dst} has no C kernel")
        e.use("mf_quantize")
