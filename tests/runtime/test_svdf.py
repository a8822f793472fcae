"""Oracle tests of SVDF against tflite-micro, over sequences of invokes (the op is stateful).

Every case runs B independent sequences of T invokes: TFLM one sequence at a time from a fresh
(reset) interpreter, microforge as one model fed the whole batch of B per step, and once more with
a ``reset()`` in the middle of the sequences.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from tests.builders.arrays import bits, random_inputs
from tests.oracle import MODELS, tflm_run, tflm_runtime

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


def _svdf_ops(name: str) -> list[tuple[str, int]]:
    graph = read_tflite(MODELS / name)
    return [(name, i) for i, op in enumerate(graph.main.operators) if op.opcode == "SVDF"]


REAL_OPS = _svdf_ops("keyword_scrambled.tflite") + _svdf_ops("keyword_scrambled_8bit.tflite")


@pytest.mark.parametrize("name,index", REAL_OPS)
def test_real_svdf_ops_over_sequences(name, index):
    """int16 state (keyword_scrambled) and int8 state with nonzero zero points (_8bit)."""
    data = write_tflite(extract_operator(read_tflite(MODELS / name), index))
    x = microforge.load(data).inputs[0]
    xs = sequences(x.shape, x.dtype, seed=index)
    assert_sequence_parity(data, xs)
    assert_sequence_parity(data, xs, reset_at=4)


def _int_svdf(state_dtype, seed, *, batch=2, inputs=12, filters=8, memory=4, rank=2,
              scale_in=0.5, scale_wf=0.05, scale_state=0.1, state_zp=100, scale_wt=0.02):
    rng = np.random.default_rng(seed)
    info = np.iinfo(state_dtype)
    b = GraphBuilder()
    x = b.input("x", (batch, inputs), np.int8, scale_in, 3)
    wf = b.const("wf", rng.integers(-127, 128, (filters, inputs)), np.int8, scale_wf, 0)
    wt = b.const("wt", rng.integers(info.min + 1, info.max + 1, (filters, memory)), state_dtype,
                 scale_wt, 0)
    units = filters // rank
    bias = b.const("bias", rng.integers(-5000, 5000, units), np.int32,
                   float(np.float32(scale_state) * np.float32(scale_wt)), 0)
    state = b.tensor("state", (batch, filters * memory), state_dtype, scale_state, state_zp,
                     variable=True)
    y = b.tensor("y", (batch, units), np.int8, 0.05, -5)
    b.op("SVDF", [x, wf, wt, bias, state], [y], rank=rank, fused_activation_function=1,
         asymmetric_quantize_inputs=False)
    b.output(y)
    return write_tflite(b.build())


def test_int8_state_saturates_and_wraps_like_tflm():
    """int8 state, zero point 100, large scale_1: the feature value saturates at 127 and the zero
    point pushes it past the int8 range; TFLM stores it with a wrapping conversion. Also rank 2,
    model batch 2 and a fused RELU, which the integer path does not apply."""
    data = _int_svdf(np.int8, seed=1)
    xs = sequences((2, 12), np.int8, seed=11)
    got = assert_sequence_parity(data, xs)
    assert (got < -5).any()  # below the output zero point: no RELU on the integer path
    assert_sequence_parity(data, xs, reset_at=6)


def test_int16_state_time_accumulator_wraps_like_tflm():
    """Saturated int16 state times full-range int16 time weights over 4 taps overflows int32."""
    data = _int_svdf(np.int16, seed=2, scale_state=0.001, state_zp=0, scale_wt=0.0005)
    xs = sequences((2, 12), np.int8, seed=12)
    assert_sequence_parity(data, xs, reset_at=3)


def _float_svdf(activation, seed, rank=2):
    rng = np.random.default_rng(seed)
    batch, inputs, filters, memory = 2, 10, 6, 5
    b = GraphBuilder()
    x = b.input("x", (batch, inputs), np.float32)
    wf = b.const("wf", rng.normal(0, 0.5, (filters, inputs)), np.float32)
    wt = b.const("wt", rng.normal(0, 0.5, (filters, memory)), np.float32)
    bias = b.const("bias", rng.normal(0, 0.5, filters // rank), np.float32)
    state = b.tensor("state", (batch, filters * memory), np.float32, variable=True)
    y = b.tensor("y", (batch, filters // rank), np.float32)
    b.op("SVDF", [x, wf, wt, bias, state], [y], rank=rank,
         fused_activation_function=activation, asymmetric_quantize_inputs=False)
    b.output(y)
    return write_tflite(b.build())


@pytest.mark.parametrize("activation", [0, 1, 2, 3, 4])
def test_float_svdf(activation):
    """float32 in TFLM's accumulation order; NONE, RELU, RELU_N1_TO_1, RELU6, TANH."""
    data = _float_svdf(activation, seed=activation)
    xs = sequences((2, 10), np.float32, seed=20 + activation, scale=3.0)
    assert_sequence_parity(data, xs, reset_at=5)


def test_float_svdf_rank_one():
    data = _float_svdf(0, seed=9, rank=1)
    assert_sequence_parity(data, sequences((2, 10), np.float32, seed=30))


def test_state_is_per_batch_row_and_reset_restores_zero_point():
    """Batch rows keep separate state; after reset() the first output equals a fresh model's."""
    data = _int_svdf(np.int8, seed=3, scale_in=0.05)
    xs = sequences((2, 12), np.int8, seed=13)
    model = microforge.load(data)
    first = model.run(xs[:, 0])[0]
    model.run(xs[:, 1])
    model.reset()
    np.testing.assert_array_equal(model.run(xs[:, 0])[0], first)
    model.reset()
    np.testing.assert_array_equal(model.run(xs[:1, 0])[0], first[:1])


@pytest.mark.parametrize("dtype", [np.int8, np.float32])
def test_svdf_without_bias_is_rejected(dtype):
    """TFLM crashes on an SVDF without bias (both paths); microforge refuses it."""
    q = (0.1, 0) if dtype == np.int8 else (None, None)
    state_dtype = np.int16 if dtype == np.int8 else dtype
    b = GraphBuilder()
    x = b.input("x", (1, 4), dtype, *q)
    wf = b.const("wf", np.ones((2, 4)), dtype, *q)
    wt = b.const("wt", np.ones((2, 3)), state_dtype, *q)
    state = b.tensor("state", (1, 6), state_dtype, *q, variable=True)
    y = b.tensor("y", (1, 2), dtype, *q)
    b.op("SVDF", [x, wf, wt, -1, state], [y], rank=1, fused_activation_function=0)
    b.output(y)
    with pytest.raises(UnsupportedOpError, match="bias"):
        microforge.load(write_tflite(b.build()))


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


@pytest.mark.parametrize("name", ["keyword_scrambled.tflite", "keyword_scrambled_8bit.tflite"])
def test_whole_keyword_models_over_sequences(name):
    """20 sequences x 10 invokes (200 random int16 inputs) through QUANTIZE, 7 SVDFs,
    FULLY_CONNECTED, SOFTMAX, QUANTIZE; every SVDF output compared too (the scrambled model's
    final output is constant), straight through and with a reset after 4 steps."""
    xs = sequences((1, 96), np.int16, seed=40)
    assert_whole_model_parity(name, xs)
    assert_whole_model_parity(name, xs, reset_at=4)
