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
from tests.oracle import random_inputs, tflm_run, tflm_runtime

N = 200


def bits(x: np.ndarray) -> np.ndarray:
    """An integer view of an array, so that float comparisons are bit-exact."""
    x = np.ascontiguousarray(x)
    if x.dtype.kind == "f":
        return x.view(np.dtype(f"u{x.dtype.itemsize}"))
    return x


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


def sample(shape, dtype, seed: int, n: int = N, scale: float = 1.0) -> np.ndarray:
    """Seeded random inputs: integers over the whole dtype range (extremes first), floats uniform
    in [-scale, scale] with a few special values (+-0.0, +-inf, NaN, huge) in the first samples."""
    x = random_inputs(shape, dtype, n, seed)
    if np.dtype(dtype).kind == "f":
        x = (x * scale).astype(dtype)
        special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45], dtype)
        flat = x[0].reshape(-1)
        k = min(flat.size, special.size)
        flat[:k] = special[:k]
    return x


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
