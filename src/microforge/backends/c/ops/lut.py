"""int8-input elementwise operators as a 256-entry lookup table.

For an operator whose every output element depends only on the input element at the same position
(LOGISTIC, TANH, the ReLU family, HARD_SWISH, int8 QUANTIZE/DEQUANTIZE/CAST), the table is made by
running the runtime kernel itself on all 256 int8 values, so the C result is the runtime's result
by construction. Runs in place (each element is read before it is written).
"""

from __future__ import annotations

import numpy as np

from microforge.backends.c.emitter import EmitContext, OpEmitter, c_emitter
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.registry import OpContext, lookup

_SUFFIX = {np.dtype(np.int8): "s8", np.dtype(np.int16): "s16", np.dtype(np.float32): "f32",
           np.dtype(np.int32): "s32", np.dtype(np.uint8): "u8"}


_WIDER_INPUT: dict[str, OpEmitter] = {}


def wider_input_emitter(*names: str):
    """Class decorator: the emitter of these operators' non-int8-input variants; the table emitter
    (the one registration of each name) hands those over to it."""

    def deco(cls: type[OpEmitter]) -> type[OpEmitter]:
        inst = cls()
        for n in names:
            _WIDER_INPUT[n] = inst
        return cls

    return deco


def lookup_table(ctx: OpContext, params) -> np.ndarray:
    """The kernel's output for each int8 input value -128..127."""
    x = ctx.input(0)
    per_sample = max(x.size, 1)
    batch = -(-256 // per_sample)
    values = np.resize(np.arange(-128, 128, dtype=np.int8), batch * per_sample)
    (out,) = lookup(ctx.op.opcode).eval(params, [values.reshape((batch,) + x.shape)], ctx)
    return np.asarray(out).reshape(-1)[:256]


@c_emitter("LOGISTIC", "TANH", "RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH", "QUANTIZE",
           "DEQUANTIZE", "CAST")
class LookupTableEmitter(OpEmitter):
    def _check(self, ctx: OpContext) -> np.dtype:
        if ctx.input(0).dtype != np.int8 or len(ctx.op.inputs) != 1:
            raise ctx.unsupported("only int8-input elementwise variants have a C kernel yet")
        out = np.dtype(ctx.output().dtype)
        if out not in _SUFFIX:
            raise ctx.unsupported(f"{out} output has no C kernel yet")
        return out

    @staticmethod
    def _wider(ctx: OpContext) -> OpEmitter | None:
        return _WIDER_INPUT.get(ctx.op.opcode) if ctx.input(0).dtype != np.int8 else None

    def memory(self, ctx: OpContext, params) -> OpMemory:
        if wider := self._wider(ctx):
            return wider.memory(ctx, params)
        out = self._check(ctx)
        return OpMemory(inplace=out.itemsize == 1)

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        if wider := self._wider(ctx):
            wider.emit(ctx, params, e)
            return
        out = self._check(ctx)
        table = e.const("table", lookup_table(ctx, params).astype(out))
        fn = f"mf_lut_s8_{_SUFFIX[out]}"
        e.call(f"{fn}({table}, {e.input_ptr(0)}, {e.output_ptr()}, {ctx.output().size});")
        e.use("mf_lut")
