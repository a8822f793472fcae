"""The C backend: every operator with a runtime kernel and a C emitter, as one standalone C99
library (static arena, no interpreter, no malloc)."""

from __future__ import annotations

from pathlib import Path

from microforge.backends.c.compiler import CompiledModel, compile_model
from microforge.backends.c.emitter import c_supported_ops
from microforge.errors import UnsupportedOpError
from microforge.ir import Graph
from microforge.ir.ops import op_def
from microforge.runtime.registry import lookup


class CBackend:
    """Portable C99 with SIMD (x86 SSE2) and Arm DSP kernel variants; the CPU fallback of every
    partition."""

    name = "c"

    def supports(self, graph: Graph, index: int) -> str | None:
        op = graph.main.operators[index]
        if lookup(op.opcode) is None:
            return (f"unsupported operator: {op.opcode} (operator {index}); see "
                    "`microforge inspect` for the supported-op list")
        if op.opcode not in c_supported_ops():
            row = op_def(op.opcode)
            why = f" ({row.no_c})" if row is not None and row.no_c else ""
            return (f"operator {index} ({op.opcode}) has no C kernel yet{why}; it runs in the "
                    "Python runtime only")
        return None

    def emit(self, graph: Graph, ops: list[int], out_dir: Path, name: str, force: bool,
             description: str) -> CompiledModel:
        if ops != list(range(len(graph.main.operators))):
            raise UnsupportedOpError("the C backend compiles whole graphs: every operator must be "
                                     "assigned to it")
        return compile_model(graph, out_dir, name=name, force=force, description=description)
