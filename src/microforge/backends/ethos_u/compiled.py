"""A model compiled for an Ethos-U: Vela's output read back by microforge, with its placement,
its flash split and its memory plan.

Vela's ``.tflite`` keeps every CPU operator as it was and replaces each run of NPU operators by one
``ethos-u`` custom operator whose inputs are the command stream, the flash tensor (encoded weights
and scales), the scratch and fast-scratch tensors, then the subgraph's inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from microforge.backends.ethos_u.memory import ETHOS_U, NpuMemory, plan_npu_memory
from microforge.backends.ethos_u.placement import OpPlacement, placements
from microforge.backends.ethos_u.vela import VelaConfig, VelaOutput, run_vela
from microforge.frontends import write_tflite
from microforge.frontends.tflite import parse_tflite
from microforge.ir import Graph


@dataclass
class NpuModel:
    """The original graph, what Vela did with it and the optimized graph."""

    graph: Graph
    vela: VelaOutput
    ops: list[OpPlacement]  # one per original operator
    optimized: Graph  # Vela's .tflite, read by microforge
    memory: NpuMemory

    @property
    def config(self) -> VelaConfig:
        return self.vela.config

    @property
    def npu_ops(self) -> int:
        return sum(p.target == "npu" for p in self.ops)

    @property
    def cpu_ops(self) -> int:
        return sum(p.target == "cpu" for p in self.ops)

    @property
    def cpu_fallback(self) -> list[dict]:
        return [{"index": p.index, "op": p.opcode, "name": p.name, "reason": p.reason}
                for p in self.ops if p.target == "cpu"]

    @property
    def npu_cycles(self) -> int:
        """Vela's estimate for the whole model's NPU work (its ``totalCycles``: NPU and memory
        transfers overlapped as its performance model assumes)."""
        return self.vela.total_cycles

    @property
    def npu_seconds(self) -> float:
        return self.npu_cycles / self.vela.clock_hz

    def subgraph_ops(self) -> list[int]:
        """Indices of the ``ethos-u`` operators in the optimized graph."""
        return [i for i, op in enumerate(self.optimized.main.operators) if op.opcode == ETHOS_U]

    def flash_split(self) -> dict[str, int]:
        """Constant bytes of the optimized model: the command streams, the flash tensors (Vela's
        encoded weights and scales) and the CPU operators' constants."""
        sg = self.optimized.main
        npu = self.subgraph_ops()
        streams = {sg.operators[i].inputs[0] for i in npu}
        flash = {sg.operators[i].inputs[1] for i in npu}
        cpu = {t for i, op in enumerate(sg.operators) if i not in npu for t in op.inputs
               if t >= 0 and sg.tensors[t].data is not None and not sg.tensors[t].is_variable}
        return {"command_stream": sum(sg.tensors[t].nbytes for t in streams),
                "encoded_weights": sum(sg.tensors[t].nbytes for t in flash),
                "cpu_constants": sum(sg.tensors[t].nbytes for t in cpu - streams - flash)}


def compile_npu(graph: Graph, config: VelaConfig, model_bytes: bytes | None = None) -> NpuModel:
    """Run Vela on ``graph`` (``model_bytes``: the .tflite it was read from, else it is written
    with microforge's writer) and read the result back."""
    data = model_bytes if model_bytes is not None else write_tflite(graph)
    out = run_vela(data, config)
    rows = placements(graph, out)
    optimized = parse_tflite(out.tflite, f"Vela's output for {config.accelerator}")
    return NpuModel(graph, out, rows, optimized, plan_npu_memory(optimized))
