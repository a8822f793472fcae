"""The C backend: every operator with a runtime kernel and a C emitter, as one standalone C99
library (static arena, no interpreter, no malloc), built and verified by a target."""

from __future__ import annotations

from pathlib import Path

from microforge.backends.base import CompileReport
from microforge.backends.c.compiler import CompiledModel, Generated, check_name, generate, write_library
from microforge.backends.c.emitter import c_supported_ops
from microforge.errors import UnsupportedOpError
from microforge.ir import Graph
from microforge.ir.ops import count_macs, op_def
from microforge.runtime.registry import lookup
from microforge.targets import BuildOptions, Measurement, Target


class CBackend:
    """Portable C99 with x86 SSE2 and Arm DSP kernel variants; the CPU fallback of every
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

    def plan(self, graph: Graph, ops: list[int], name: str, description: str) -> Generated:
        """The memory plan and every operator's C, not yet written."""
        if ops != list(range(len(graph.main.operators))):
            raise UnsupportedOpError("the C backend compiles whole graphs: every operator must be "
                                     "assigned to it")
        return generate(graph, check_name(name), description)

    def emit(self, planned: Generated, out_dir: Path, name: str, force: bool) -> CompiledModel:
        """Write the library (never over files microforge did not write, unless ``force``)."""
        return write_library(planned, check_name(name), out_dir, force)

    def build_and_verify(self, library: CompiledModel, graph: Graph, target: Target, verify: int,
                         options: BuildOptions) -> Measurement:
        """Build the library for ``target``, run ``verify`` reference inputs, measure it."""
        return target.measure(library.directory, library.name, graph, verify, options)

    def report(self, library: CompiledModel, measured: Measurement, graph: Graph, target: Target,
               verify: int) -> CompileReport:
        """The library and what the target measured, as one CompileReport."""
        check = measured.check
        sg = graph.main
        report = CompileReport(
            name=library.name, directory=str(library.directory),
            files=library.files + measured.files, target=target.name,
            arena_bytes=library.arena_bytes, arena_lower_bound_bytes=library.plan.lower_bound,
            arena_tflm_strategy_bytes=library.tflm_style_plan.size, planner=library.plan.strategy,
            state_bytes=library.source.state_bytes, static_ram_bytes=measured.static_ram_bytes,
            stack_bytes_estimate=measured.stack_bytes, ram_bytes=measured.ram_bytes,
            const_bytes=measured.const_bytes, code_bytes=measured.code_bytes,
            io_bytes=sum(sg.tensors[t].nbytes for t in sg.inputs + sg.outputs),
            macs=sum(count_macs(op, sg) for op in sg.operators), ops=library.op_rows,
            verified=check.samples if verify and check is not None and check.ok else 0,
            flash_bytes=measured.flash_bytes, firmware=measured.firmware,
            differing_bytes=check.differing_bytes if verify and check is not None else None,
            patch_stages=[s.summary() for s in library.stages],
        )
        if check is not None and not check.ok:
            where = "" if target.name == "host" else f" on {target.name}"
            report.failure = (f"verification{where} failed: {check.differing_bytes} differing "
                              f"bytes over {check.samples} inputs (first: {check.first_difference})")
        return report
