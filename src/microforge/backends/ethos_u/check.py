"""Check the CPU part of a Vela-compiled model against the original model, in the numpy runtime.

Until the command-stream emulator exists, an NPU subgraph is not executed: its outputs are taken
from the original operators it replaces, run by the numpy runtime (bit-exact with TFLM). The
CPU operators Vela left in its ``.tflite`` then run on those values with their own kernels, and
the final outputs must equal the original model's byte for byte. Tensors of the two graphs are
matched through the CPU operators (the k-th CPU operator of Vela's model is the k-th CPU operator
of the original, same type, inputs and outputs position by position) and the graph inputs and
outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from microforge.backends.ethos_u.compiled import NpuModel
from microforge.backends.ethos_u.memory import ETHOS_U
from microforge.errors import ModelError
from microforge.ir import Graph
from microforge.runtime.interpreter import Executor
from microforge.runtime.reference import SEQUENCE_STEPS, random_inputs_for


def tensor_map(npu: NpuModel) -> dict[int, int]:
    """Vela model tensor -> original model tensor, for every activation a CPU operator or the
    caller sees."""
    opt, orig = npu.optimized.main, npu.graph.main
    mapping = dict(zip(opt.inputs, orig.inputs)) | dict(zip(opt.outputs, orig.outputs))
    cpu_orig = [p.index for p in npu.ops if p.target == "cpu"]
    cpu_opt = [i for i, op in enumerate(opt.operators) if op.opcode != ETHOS_U]
    if len(cpu_orig) != len(cpu_opt):
        raise ModelError(f"Vela's model has {len(cpu_opt)} CPU operators, its report "
                         f"{len(cpu_orig)}: cannot match the two graphs")
    for a, b in zip(cpu_opt, cpu_orig):
        oa, ob = opt.operators[a], orig.operators[b]
        if oa.opcode != ob.opcode:
            raise ModelError(f"CPU operator {a} of Vela's model is {oa.opcode}, the original's "
                             f"operator {b} is {ob.opcode}")
        for ta, tb in zip(list(oa.inputs) + list(oa.outputs), list(ob.inputs) + list(ob.outputs)):
            if ta >= 0 and tb >= 0 and opt.tensors[ta].data is None:
                mapping[ta] = tb
    return mapping


@dataclass
class CpuPartCheck:
    samples: int
    differing_bytes: int
    npu_outputs_fed: int  # NPU subgraph output tensors taken from the original operators

    @property
    def ok(self) -> bool:
        return self.differing_bytes == 0


def _without_npu(npu: NpuModel, mapping: dict[int, int]) -> tuple[Graph, list[int]]:
    """Vela's graph with its ``ethos-u`` operators removed and their outputs made graph inputs;
    the original tensor each extra input is fed from."""
    opt = npu.optimized.main
    fed = [t for op in opt.operators if op.opcode == ETHOS_U for t in op.outputs]
    missing = [t for t in fed if t not in mapping]
    if missing:
        raise ModelError(f"Vela's NPU output tensors {missing} match no tensor of the original")
    sg = replace(opt, operators=[op for op in opt.operators if op.opcode != ETHOS_U],
                 inputs=list(opt.inputs) + [t for t in fed if t not in opt.inputs])
    g = npu.optimized
    return Graph([sg] + g.subgraphs[1:], g.description, g.version, g.metadata, g.signatures), \
        [mapping[t] for t in fed if t not in opt.inputs]


def check_cpu_part(npu: NpuModel, n: int, seed: int = 0) -> CpuPartCheck:
    """Run ``n`` random inputs (whole sequences for stateful models) through the original model
    and through Vela's CPU operators fed with the NPU subgraphs' outputs; count differing bytes."""
    mapping = tensor_map(npu)
    cpu_graph, feeds = _without_npu(npu, mapping)
    original, cpu = Executor(npu.graph, threads=1), Executor(cpu_graph, threads=1)
    steps = SEQUENCE_STEPS if original.stateful else 1
    sequences = max(1, -(-n // steps))
    inputs = random_inputs_for(npu.graph, sequences * steps, seed)
    original.reset()
    cpu.reset()
    differing = 0
    for t in range(steps):
        batch = [x.reshape((sequences, steps) + x.shape[1:])[:, t] for x in inputs]
        want, values = original.run(batch, keep_intermediates=True)
        got, _ = cpu.run(batch + [values[f] for f in feeds])
        differing += sum(int(np.count_nonzero(
            np.ascontiguousarray(a).view(np.uint8) != np.ascontiguousarray(b).view(np.uint8)))
            for a, b in zip(got, want))
    return CpuPartCheck(sequences * steps, differing, len(feeds))
