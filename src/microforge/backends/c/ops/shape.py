"""RESHAPE / SQUEEZE / EXPAND_DIMS: no code when the planner makes the output a view of the input,
else one ``memcpy`` (between two caller buffers)."""

from __future__ import annotations

from microforge.backends.c.emitter import EmitContext, OpEmitter, c_emitter
from microforge.planner.lifetimes import OpMemory
from microforge.runtime.registry import OpContext


@c_emitter("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
class ViewEmitter(OpEmitter):
    def memory(self, ctx: OpContext, params) -> OpMemory:
        return OpMemory(view=True)

    def emit(self, ctx: OpContext, params, e: EmitContext) -> None:
        nbytes = ctx.output().nbytes
        e.call(f"memcpy({e.output_ptr()}, {e.input_ptr(0)}, {nbytes});")
