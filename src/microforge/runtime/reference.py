"""Reference outputs for verification: seeded random inputs, the numpy runtime's outputs for them
(whole sequences with resets for stateful models), and a byte-for-byte comparison with what a
built library (any backend, any target) wrote for the same inputs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from microforge.errors import ModelError
from microforge.ir import Graph
from microforge.runtime.interpreter import Executor

SEQUENCE_STEPS = 10


def random_inputs_for(graph: Graph, n: int, seed: int = 0) -> list[np.ndarray]:
    """Seeded random inputs over each input's whole dtype range (extremes first)."""
    rng = np.random.default_rng(seed)
    out = []
    for t in graph.main.inputs:
        tensor = graph.main.tensors[t]
        shape = (n,) + tensor.shape
        if tensor.dtype.kind == "f":
            x = rng.uniform(-1.0, 1.0, shape).astype(tensor.dtype)
        else:
            info = np.iinfo(tensor.dtype)
            x = rng.integers(info.min, info.max, shape, endpoint=True, dtype=tensor.dtype)
            if n >= 2:
                x[0], x[1] = info.min, info.max
        out.append(x)
    return out


@dataclass
class VerifyResult:
    samples: int
    differing_bytes: int
    sanitized: bool
    first_difference: str = ""

    @property
    def ok(self) -> bool:
        return self.differing_bytes == 0


@dataclass
class Reference:
    """Random inputs and the Python runtime's outputs for them, sample-major (for stateful models:
    sequence s, step t at index s * reset_every + t)."""

    inputs: list[np.ndarray]
    expected: list[np.ndarray]
    total: int
    reset_every: int  # 0: never reset (stateless model)

    def input_bytes(self) -> bytes:
        return b"".join(np.ascontiguousarray(x[i]).tobytes()
                        for i in range(self.total) for x in self.inputs)


def reference(graph: Graph, n: int, seed: int = 0) -> Reference:
    """At least n random inputs (whole sequences of SEQUENCE_STEPS for stateful models) and the
    Python runtime's outputs for them."""
    executor = Executor(graph)
    sg = graph.main
    stateful = executor.stateful
    steps = SEQUENCE_STEPS if stateful else 1
    sequences = -(-n // steps)
    total = sequences * steps
    inputs = random_inputs_for(graph, total, seed)
    if stateful:
        outs_by_step = []
        executor.reset()
        for t in range(steps):
            batch = [x.reshape((sequences, steps) + x.shape[1:])[:, t] for x in inputs]
            outs_by_step.append(executor.run(batch)[0])
        expected = [
            np.stack([outs_by_step[t][k] for t in range(steps)], axis=1).reshape(
                (total,) + outs_by_step[0][k].shape[1:])
            for k in range(len(sg.outputs))
        ]
        executor.reset()
    else:
        expected = executor.run(inputs)[0]
    return Reference(inputs, expected, total, steps if stateful else 0)


def compare_outputs(raw: bytes, graph: Graph, ref: Reference, sanitized: bool = False) -> VerifyResult:
    """Compare every byte the C side wrote (outputs of each sample, in order) with the reference;
    a NaN in both counts as equal whatever its payload bits (C and numpy make different ones)."""
    sg = graph.main
    total = ref.total
    sample_bytes = sum(sg.tensors[t].nbytes for t in sg.outputs)
    if len(raw) != sample_bytes * total:
        raise ModelError(f"the harness wrote {len(raw)} bytes, expected {sample_bytes * total}")
    got = np.frombuffer(raw, np.uint8).reshape(total, sample_bytes)
    want = np.concatenate(
        [np.ascontiguousarray(e).reshape(total, -1).view(np.uint8) for e in ref.expected], axis=1)
    diff = got != want
    start = 0
    for t, e in zip(sg.outputs, ref.expected):  # NaN is NaN: its payload bits are not computed
        width = sg.tensors[t].nbytes
        dtype = np.dtype(sg.tensors[t].dtype)
        if dtype.kind == "f" and diff[:, start:start + width].any():
            mine = np.ascontiguousarray(got[:, start:start + width]).view(dtype)
            theirs = np.ascontiguousarray(e).reshape(total, -1)
            both = np.repeat(np.isnan(mine) & np.isnan(theirs), dtype.itemsize, axis=1)
            diff[:, start:start + width] &= ~both
        start += width
    first = ""
    if diff.any():
        s, b = np.argwhere(diff)[0]
        first = f"sample {s}, output byte {b}: C {got[s, b]} vs Python {want[s, b]}"
    return VerifyResult(total, int(diff.sum()), sanitized, first)


