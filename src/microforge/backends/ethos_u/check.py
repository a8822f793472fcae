"""Check a Vela-compiled model against the original model, in the numpy runtime.

``check_deployed``: the whole deployed model, Vela's ``.tflite``, runs in the runtime: every NPU
subgraph through the command-stream emulator (``runtime/ethos_u``: emulated, not silicon), every
CPU operator through its kernel; its outputs must equal the original model's byte for byte. When
the emulator cannot run a subgraph (an NPU feature it does not model, named in the message), the
check falls back to ``check_cpu_part`` and says so.

``check_cpu_part``: an NPU subgraph is not executed: its outputs are taken
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


NPU_EMULATED = ("NPU operators: emulated (microforge's command-stream emulator executed Vela's "
                "command streams; emulated, not silicon)")
NPU_NOT_EXECUTED = "NPU operators: not executed; checked as the original operators in the runtime"


@dataclass
class CpuPartCheck:
    samples: int
    differing_bytes: int
    npu_outputs_fed: int  # NPU subgraph output tensors taken from the original operators
    how: str = NPU_NOT_EXECUTED  # what ran the NPU subgraphs

    @property
    def ok(self) -> bool:
        return self.differing_bytes == 0


def _without_npu(npu: NpuModel, mapping: dict[int, int]) -> tuple[Graph, list[int]]:
    """Vela's graph with its ``ethos-u`` operators removed and their outputs made graph inputs;
    the original tensor each extra input is fed from."""
    opt = npu.optimized.main
    # only the NPU outputs something reads: a CPU operator or the caller. Vela also lists among a
    # subgraph's outputs the variable tensors it updates in its region (the LSTM states, one per
    # time step), which no CPU operator reads and the original has no counterpart of.
    read = {t for op in opt.operators if op.opcode != ETHOS_U for t in op.inputs} | set(opt.outputs)
    fed = [t for op in opt.operators if op.opcode == ETHOS_U for t in op.outputs if t in read]
    missing = [t for t in fed if t not in mapping]
    if missing:
        names = ", ".join(repr(opt.tensors[t].name) for t in missing)
        raise ModelError(f"Vela's NPU subgraph outputs {names} (tensors {missing}) match no tensor "
                         "of the original model, so the CPU operators cannot be checked on them")
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


def _differing(got: list[np.ndarray], want: list[np.ndarray]) -> int:
    return sum(int(np.count_nonzero(
        np.ascontiguousarray(a).view(np.uint8) != np.ascontiguousarray(b).view(np.uint8)))
        for a, b in zip(got, want))


def check_deployed(npu: NpuModel, n: int, seed: int = 0) -> CpuPartCheck:
    """Run ``n`` random inputs (whole sequences for stateful models) through the original model
    and through Vela's model with its NPU subgraphs emulated; count differing output bytes. An
    NPU feature the emulator does not model falls back to ``check_cpu_part`` (``how`` says why)."""
    try:
        deployed = Executor(npu.optimized, threads=1)
        original = Executor(npu.graph, threads=1)
        steps = SEQUENCE_STEPS if original.stateful or deployed.stateful else 1
        sequences = max(1, -(-n // steps))
        inputs = random_inputs_for(npu.graph, sequences * steps, seed)
        original.reset()
        deployed.reset()
        differing = 0
        for t in range(steps):
            batch = [x.reshape((sequences, steps) + x.shape[1:])[:, t] for x in inputs]
            differing += _differing(deployed.run(batch)[0], original.run(batch)[0])
    except ModelError as e:
        if "emulat" not in str(e):
            raise
        check = check_cpu_part(npu, n, seed)
        check.how = f"{NPU_NOT_EXECUTED} (the emulator cannot run them: {e})"
        return check
    return CpuPartCheck(sequences * steps, differing, 0, NPU_EMULATED)
