"""Single-operator parity helpers for the data-movement and elementwise kernel tests.

``assert_parity`` writes a graph, runs it batched in microforge and sample by sample in TFLM and
compares bit for bit (floats by their bit patterns, so -0.0 and NaN payloads count).
``assert_sequence_parity`` does the same for stateful operators (SVDF, LSTM) over sequences of
invokes, with an optional ``reset()`` in the middle.
"""

from __future__ import annotations

import itertools

import numpy as np

import microforge
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir import Graph
from microforge.ir.builder import GraphBuilder
from tests.builders.arrays import bits, random_inputs
from tests.oracle import MODELS, tflm_run, tflm_runtime


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


def assert_both_reject(graph: Graph | GraphBuilder, error: type | None = None) -> None:
    """microforge refuses the model (``error``, default UnsupportedOpError; a model whose shapes
    contradict each other is a ModelError from validation) and so does TFLM (prepare fails)."""
    import pytest

    from microforge.errors import UnsupportedOpError
    from tests.oracle import tflm_interpreter

    tflm_runtime()
    if isinstance(graph, GraphBuilder):
        graph = graph.build()
    data = write_tflite(graph)
    with pytest.raises(error or UnsupportedOpError):
        microforge.load(data)
    with pytest.raises(RuntimeError):
        tflm_interpreter(data)


SEQUENCES, STEPS = 20, 10  # 200 invokes per case


def tflm_sequences(data: bytes, xs: np.ndarray, reset_at: int | None = None) -> np.ndarray:
    """TFLM outputs (B, T) + shape for inputs (B, T) + shape, one sequence at a time from the
    reset state; the state is reset again before step ``reset_at``."""
    cut = [0, reset_at, xs.shape[1]] if reset_at else [0, xs.shape[1]]
    out = []
    for seq in xs:
        parts = [tflm_run(data, [[x] for x in seq[a:b]], reset_each=False)[0]
                 for a, b in itertools.pairwise(cut)]
        out.append(np.concatenate(parts))
    return np.stack(out)


def microforge_sequences(data: bytes, xs: np.ndarray, reset_at: int | None = None) -> np.ndarray:
    """microforge outputs for the same sequences, the whole batch of B per call."""
    model = microforge.load(data)
    assert model.stateful
    model.reset()
    out = []
    for t in range(xs.shape[1]):
        if t == reset_at:
            model.reset()
        out.append(model.run(xs[:, t])[0])
    return np.stack(out, axis=1)


def assert_sequence_parity(data: bytes, xs: np.ndarray, reset_at: int | None = None) -> np.ndarray:
    tflm_runtime()
    ref = tflm_sequences(data, xs, reset_at)
    got = microforge_sequences(data, xs, reset_at)
    assert got.dtype == ref.dtype and got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_array_equal(bits(got), bits(ref))
    return got


def sequences(shape, dtype, seed: int, scale: float = 1.0) -> np.ndarray:
    xs = random_inputs(shape, dtype, SEQUENCES * STEPS, seed)
    if np.dtype(dtype).kind == "f":
        xs = (xs * scale).astype(dtype)
    return xs.reshape((SEQUENCES, STEPS) + tuple(shape))


def assert_whole_model_parity(name: str, xs: np.ndarray, reset_at: int | None = None) -> int:
    """A shared model over sequences (B, T) + input shape: the model output and the output of
    every SVDF / LSTM operator inside it (TFLM keeping all tensors), at every step, bit for bit.
    Returns the number of compared values."""
    runtime = tflm_runtime()
    data = (MODELS / name).read_bytes()
    model = microforge.load(data)
    sg = model.graph.main
    watched = [op.outputs[0] for op in sg.operators
               if op.opcode in ("SVDF", "UNIDIRECTIONAL_SEQUENCE_LSTM")] + list(sg.outputs)
    interp = runtime.Interpreter.from_bytes(
        data, arena_size=4 << 20, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    ref = np.empty((len(watched),) + xs.shape[:2], dtype=object)
    for b, seq in enumerate(xs):
        interp.reset()
        for t, x in enumerate(seq):
            if t == reset_at:
                interp.reset()
            interp.set_input(x, 0)
            interp.invoke()
            for k, idx in enumerate(watched):
                ref[k, b, t] = np.array(interp.GetTensor(idx, 0)["tensor_data"])
    model.reset()
    compared = 0
    for t in range(xs.shape[1]):
        if t == reset_at:
            model.reset()
        _, named = model.run(xs[:, t], intermediates=True)
        for k, idx in enumerate(watched):
            got = named[sg.tensors[idx].name or f"tensor_{idx}"]
            expected = np.stack(list(ref[k, :, t]))
            assert got.dtype == expected.dtype
            np.testing.assert_array_equal(bits(got), bits(expected.reshape(got.shape)),
                                          err_msg=f"tensor {idx} at step {t}")
            compared += got.size
    return compared
