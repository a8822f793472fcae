"""Oracle tests of UNIDIRECTIONAL_SEQUENCE_LSTM against tflite-micro, over sequences of invokes.

The op keeps its hidden and cell state across invokes: every case runs B independent sequences of
T invokes (TFLM one sequence at a time from the reset state, microforge the whole batch per call),
once straight through and once with a ``reset()`` in the middle. Float outputs compare by bits.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.fixedpoint import logistic_int16_lut, tanh_int16_lut
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.common import expf, expm1f, tanhf
from tests.builders.arrays import bits
from tests.builders.ops import LSTM_REAL_OPS, lstm_model
from tests.oracle import MODELS, tflm_run
from tests.runtime._parity import assert_sequence_parity, assert_whole_model_parity, sequences


def _check(data: bytes, seed: int, scale: float = 1.0, positive: bool = False) -> np.ndarray:
    x = microforge.load(data).inputs[0]
    xs = sequences(x.shape, x.dtype, seed=seed, scale=scale)
    if positive:
        xs = np.abs(xs)
    assert_sequence_parity(data, xs, reset_at=4)
    return xs


@pytest.mark.parametrize("name,index", LSTM_REAL_OPS)
def test_real_lstm_ops_over_sequences(name, index):
    _check(write_tflite(extract_operator(read_tflite(MODELS / name), index)), seed=index)


def _max_cell(data: bytes, xs: np.ndarray) -> float:
    """The largest |cell state| over the sequences ``xs`` (B, T, ...)."""
    model = microforge.load(data)
    sg = model.graph.main
    name = sg.tensors[sg.operators[0].inputs[19]].name
    largest = 0.0
    for t in range(xs.shape[1]):
        _, named = model.run(xs[:, t], intermediates=True)
        largest = max(largest, float(np.abs(named[name].astype(np.float64)).max()))
    return largest


@pytest.mark.parametrize("clip", [10.0, 0.0])
def test_float_lstm_saturating_gates_and_cell_clip(clip):
    """Positive inputs 40x larger over 12 steps: gate pre-activations beyond the sigmoid cutoffs
    (< -9, > 16.6) and a cell state that grows past the clip of 10 (or not clipped)."""
    data = lstm_model("trained_lstm.tflite", 0, steps=12, cell_clip=clip)
    xs = _check(data, seed=5, scale=40.0, positive=True)
    assert _max_cell(data, xs) == 10.0 if clip else _max_cell(data, xs) > 10.0


@pytest.mark.parametrize("name", ["trained_lstm_int8.tflite", "trained_lstm.tflite"])
@pytest.mark.parametrize("time_major", [False, True])
def test_model_batch_and_layout(name, time_major):
    """A model batch of 3 rows (each its own sequence) in batch-major and time-major layout."""
    _check(lstm_model(name, 0, batch=3, steps=5, time_major=time_major), seed=6)


@pytest.mark.parametrize("clip", [0.0, 3.0])
def test_int8_cell_clip(clip):
    """dtln's first LSTM (cell scale 2**-11) without cell clip (saturates at int16 -32768) and with a
    tight one (3.0 -> 6144)."""
    data = lstm_model("dtln_noise_suppression.tflite", 0, steps=3, cell_clip=clip)
    xs = _check(data, seed=7)
    assert _max_cell(data, xs) == (6144 if clip else 32768)


def test_state_carries_over_and_reset_clears_it():
    data = write_tflite(extract_operator(read_tflite(MODELS / "dtln_noise_suppression.tflite"), 1))
    x = sequences((1, 1, 128), np.int8, seed=9)
    model = microforge.load(data)
    first = model.run(x[:, 0])[0]
    second = model.run(x[:, 0])[0]
    assert (first != second).any()
    model.reset()
    np.testing.assert_array_equal(model.run(x[:, 0])[0], first)


def test_peephole_projection_and_other_cell_activations_are_rejected():
    graph = extract_operator(read_tflite(MODELS / "trained_lstm.tflite"), 0)
    op = graph.main.operators[0]
    op.options = {**op.options, "fused_activation_function": 1}
    with pytest.raises(UnsupportedOpError, match="activation"):
        microforge.load(write_tflite(graph))
    graph = extract_operator(read_tflite(MODELS / "trained_lstm.tflite"), 0)
    op = graph.main.operators[0]
    op.inputs[16] = op.inputs[5]  # a (20, 20) projection weight
    with pytest.raises(UnsupportedOpError, match="projection"):
        microforge.load(write_tflite(graph))


ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


@pytest.mark.parametrize("op,log2_scale,args", [
    ("LOGISTIC", -12, (0, 0)),  # the LSTM gates
    ("TANH", -12, (0, 0)),  # the LSTM cell gate, tanh(cell) at cell scale 2**-12
    ("TANH", -11, (0, 1)),  # tanh(cell) at cell scale 2**-11 (dtln)
    ("TANH", -13, (3, 1)),  # tanh(cell) at cell scale 2**-13 (the LSTM's right-shift branch)
])
def test_int16_lut_nonlinearities_exhaustively(op, log2_scale, args):
    """The LSTM's int16 sigmoid / tanh against TFLM's int16 LOGISTIC / TANH kernels (the same
    reference_integer_ops LUT code) on all 65536 inputs."""
    b = GraphBuilder()
    x = b.input("x", ALL_INT16.shape, np.int16, 2.0 ** log2_scale, 0)
    y = b.tensor("y", ALL_INT16.shape, np.int16, 2.0 ** -15, 0)
    b.op(op, [x], [y])
    b.output(y)
    ref = tflm_run(write_tflite(b.build()), [[ALL_INT16]])[0][0]
    fn = logistic_int16_lut if op == "LOGISTIC" else tanh_int16_lut
    np.testing.assert_array_equal(fn(ALL_INT16, *args), ref)


def test_float_transcendentals_match_the_c_library():
    """expf / tanhf / expm1f (used by the float LSTM) against the C library through ctypes."""
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.uniform(-30, 30, 40000), rng.uniform(-1, 1, 40000),
                         rng.normal(0, 1e-3, 10000), rng.uniform(-105, 90, 10000),
                         [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, 22.0, -9.0, 88.8]])
    xs = xs.astype(np.float32)
    for name, ours in (("expf", expf), ("tanhf", tanhf), ("expm1f", expm1f)):
        fn = getattr(libm, name)
        fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
        ref = np.array([fn(float(v)) for v in xs], np.float32)
        np.testing.assert_array_equal(bits(ours(xs)), bits(ref), err_msg=name)


@pytest.mark.parametrize("name,shape,dtype", [
    ("trained_lstm_int8.tflite", (1, 28, 28), np.int8),
    ("trained_lstm.tflite", (1, 28, 28), np.float32),
    ("dtln_noise_suppression.tflite", (1, 1, 257), np.int8),
])
def test_whole_lstm_models_over_sequences(name, shape, dtype):
    """20 sequences x 10 invokes (200 random inputs; float ones pixel-like in [0, 1]) through the
    whole model (LSTM, RESHAPE, FULLY_CONNECTED, SOFTMAX / LOGISTIC), the LSTM outputs compared
    too, straight through and with a reset after 4 steps."""
    xs = sequences(shape, dtype, seed=41)
    if dtype == np.float32:
        xs = np.abs(xs)
    assert_whole_model_parity(name, xs)
    assert_whole_model_parity(name, xs, reset_at=4)
