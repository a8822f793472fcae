"""The Ethos-U backend: Vela decides which operators run on the NPU; the C backend compiles the
rest (``passes.partition`` with this backend first and the C backend last)."""

from __future__ import annotations

from microforge.backends.ethos_u.compiled import NpuModel, compile_npu
from microforge.backends.ethos_u.vela import VelaConfig
from microforge.ir import Graph


class EthosUBackend:
    """One accelerator configuration. ``compile`` runs Vela once per graph; ``supports`` answers
    from that run (an operator on the CPU gets Vela's reason)."""

    name = "ethos-u"

    def __init__(self, config: VelaConfig) -> None:
        self.config = config
        self._compiled: list[NpuModel] = []

    def compile(self, graph: Graph, model_bytes: bytes | None = None) -> NpuModel:
        """Vela's result for ``graph`` (``model_bytes``: the .tflite it was read from)."""
        for done in self._compiled:
            if done.graph is graph:
                return done
        self._compiled.append(compile_npu(graph, self.config, model_bytes))
        return self._compiled[-1]

    def supports(self, graph: Graph, index: int) -> str | None:
        row = self.compile(graph).ops[index]
        if row.target == "npu":
            return None
        return f"operator {index} ({row.opcode}) stays on the CPU: {row.reason}"
