"""Single-operator parity helpers for the data-movement and elementwise kernel tests.

``assert_parity`` writes a graph, runs it batched in microforge and sample by sample in TFLM and
compares bit for bit (floats by their bit patterns, so -0.0 and NaN payloads count).
"""

from __future__ import annotations

import numpy as np

import microforge
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder
from tests.builders.arrays import bits
from tests.oracle import tflm_run, tflm_runtime


def assert_parity(graph: Graph | GraphBuilder, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """Compare microforge (one batch) with TFLM (one sample at a time); returns the outputs."""
    tflm_runtime()
    if isinstance(graph, GraphBuilder):
        graph = graph.build()
    data = write_tflite(graph)
    model = microforge.load(data)
    ours = model.run(inputs if len(inputs) > 1 else inputs[0])
    n = inputs[0].shape[0]
    ref = tflm_run(data, [[x[i] for x in inputs] for i in range(n)])
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert o.dtype == r.dtype, (o.dtype, r.dtype)
        assert o.shape == r.shape, (o.shape, r.shape)
        np.testing.assert_array_equal(bits(o), bits(r))
    return ours


def assert_both_reject(graph: Graph | GraphBuilder) -> None:
    """microforge refuses the model (UnsupportedOpError) and so does TFLM (prepare fails)."""
    import pytest

    from microforge.errors import UnsupportedOpError
    from tests.oracle import tflm_interpreter

    tflm_runtime()
    if isinstance(graph, GraphBuilder):
        graph = graph.build()
    data = write_tflite(graph)
    with pytest.raises(UnsupportedOpError):
        microforge.load(data)
    with pytest.raises(RuntimeError):
        tflm_interpreter(data)
