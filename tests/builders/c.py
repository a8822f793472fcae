"""Helpers of the C kernel tests: compile a graph and compare the built library with the Python
runtime, on seeded random inputs (``check``) or on chosen inputs such as float specials
(``check_inputs``, stateless graphs)."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from microforge.api import Model
from microforge.backends.c.compiler import compile_model
from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder
from microforge.targets.host import build_harness, verify
from tests.builders.arrays import sample

NO_SIMD = ["-DMF_NO_SIMD"]  # build the portable C paths on a host with SIMD
# a test run twice: with the host SIMD paths and with the portable C (its `flags` argument)
BOTH_BUILDS = pytest.mark.parametrize("flags", [None, NO_SIMD], ids=["simd", "portable"])


def check(graph: Graph, out: Path, n: int = 200, sanitize: bool = False,
          flags: list[str] | None = None, patches: bool = True) -> None:
    """``n`` seeded random inputs through ``targets.host.verify``: 0 differing bytes.
    ``flags``: extra compiler flags (e.g. ``NO_SIMD``); ``patches``: allow patch stages."""
    compile_model(graph, out, name="m", patches=patches)
    result = verify(out, "m", graph, n, sanitize=sanitize, extra_flags=flags)
    assert result.samples >= n
    assert result.differing_bytes == 0, result.first_difference


def check_inputs(graph: Graph, out: Path, inputs: list[np.ndarray], sanitize: bool = False,
                 flags: list[str] | None = None) -> None:
    """The given batch of inputs (one ``(N,) + shape`` array per graph input) through the built
    library and the Python runtime: every output byte equal."""
    compile_model(graph, out, name="m")
    sg = graph.main
    n = inputs[0].shape[0]
    expected = Model(graph).run([np.ascontiguousarray(x) for x in inputs])
    with tempfile.TemporaryDirectory(prefix="microforge-test-") as tmp:
        work = Path(tmp)
        exe = build_harness(out, "m", graph, work, sanitize=sanitize, extra_flags=flags)
        with open(work / "in.bin", "wb") as f:
            for i in range(n):
                for x in inputs:
                    f.write(np.ascontiguousarray(x[i]).tobytes())
        proc = subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin"), str(n), "0"],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        raw = np.frombuffer((work / "out.bin").read_bytes(), np.uint8).reshape(n, -1)
    offset = 0
    for k, t in enumerate(sg.outputs):
        size = sg.tensors[t].nbytes
        want = np.ascontiguousarray(expected[k]).reshape(n, -1).view(np.uint8)
        got = raw[:, offset:offset + size]
        bad = np.argwhere(got != want)
        assert bad.size == 0, f"output {k}: sample {bad[0][0]}, byte {bad[0][1]} differ"
        offset += size


def merge(builders: list[GraphBuilder]) -> GraphBuilder:
    """One graph holding every builder's operators side by side (tensors renamed ``k_name``),
    so that many single-operator cases share one C build."""
    merged = GraphBuilder()
    for k, b in enumerate(builders):
        base = len(merged.tensors)
        for t in b.tensors:
            merged.tensors.append(replace(t, name=f"{k}_{t.name}"))
        for op in b.operators:
            merged.operators.append(replace(
                op, inputs=[i + base if i >= 0 else i for i in op.inputs],
                outputs=[i + base for i in op.outputs]))
        merged.inputs += [i + base for i in b.inputs]
        merged.outputs += [i + base for i in b.outputs]
    return merged


def sample_inputs(graph: Graph, seed: int = 0) -> list[np.ndarray]:
    """``tests.builders.arrays.sample`` inputs (200 samples, float specials) for every input."""
    sg = graph.main
    return [sample(sg.tensors[t].shape, sg.tensors[t].dtype, seed + k)
            for k, t in enumerate(sg.inputs)]


def as_builder(graph: Graph) -> GraphBuilder:
    """The main subgraph of ``graph`` as a builder (for ``merge``)."""
    sg = graph.main
    b = GraphBuilder()
    b.tensors, b.operators = list(sg.tensors), list(sg.operators)
    b.inputs, b.outputs = list(sg.inputs), list(sg.outputs)
    return b


def run_c(graph: Graph, inputs: list[np.ndarray], work: Path, sanitize: bool = False,
          reset_every: int = 0, flags: list[str] | None = None) -> list[np.ndarray]:
    """Compile ``graph``, build the verify harness (extra compiler ``flags``) and run it on the
    given samples."""
    compiled = compile_model(graph, work / "lib", name="m")
    exe = build_harness(compiled.directory, "m", graph, work, sanitize=sanitize, extra_flags=flags)
    n = inputs[0].shape[0]
    with open(work / "in.bin", "wb") as f:
        for i in range(n):
            for x in inputs:
                f.write(np.ascontiguousarray(x[i]).tobytes())
    subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin"), str(n),
                    str(reset_every)], check=True, timeout=600)
    raw = np.frombuffer((work / "out.bin").read_bytes(), np.uint8).reshape(n, -1)
    sg = graph.main
    outs, start = [], 0
    for t in sg.outputs:
        tensor = sg.tensors[t]
        chunk = np.ascontiguousarray(raw[:, start:start + tensor.nbytes])
        outs.append(chunk.view(tensor.dtype).reshape((n,) + tensor.shape))
        start += tensor.nbytes
    return outs
