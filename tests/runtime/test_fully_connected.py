"""FULLY_CONNECTED against tflite-micro: 200 seeded inputs per case (dtype extremes first), run as one
batch in microforge and one sample at a time in TFLM, compared bit for bit. Covers int8 (per-tensor,
per-channel, int4 weights, weight zero point), int16x8 (int32/int64/absent bias), float32, every
fused activation, no bias, keep_num_dims, rank > 2 inputs, int32 wrap-around, the float64 matmul
path, extracted ops of the shared models and whole-model parity of hello_world."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.fully_connected import matmul_dtype, unpack_int4
from tests.builders.arrays import bits, random_inputs
from tests.builders.ops import fc_model
from tests.oracle import MODELS, tflm_run, tflm_runtime

N = 200


def assert_tflm_parity(data: bytes, xs: list[np.ndarray]) -> np.ndarray:
    """One batch through microforge, sample by sample through TFLM, compared bit for bit."""
    tflm_runtime()
    got = microforge.load(data).run(xs if len(xs) > 1 else xs[0])
    want = tflm_run(data, [[x[i] for x in xs] for i in range(xs[0].shape[0])])
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(bits(g), bits(w))
    return got[0]


def float_inputs(shape, seed: int, scale: float = 4.0) -> np.ndarray:
    """Uniform floats in [-scale, scale]; sample 0 holds special values, sample 1 is all -0.0."""
    x = (random_inputs(shape, np.float32, N, seed) * scale).astype(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45], np.float32)
    flat = x[0].reshape(-1)
    flat[: min(flat.size, special.size)] = special[: flat.size]
    x[1] = -0.0
    return x


@pytest.mark.parametrize("act", [0, 1, 2, 3])
@pytest.mark.parametrize("per_channel", [False, True])
def test_int8(act, per_channel):
    data = fc_model((1, 37), (1, 13), 37, 13, np.int8, per_channel=per_channel, act=act, seed=act)
    assert_tflm_parity(data, [random_inputs((1, 37), np.int8, N, seed=act)])


@pytest.mark.parametrize("per_channel", [False, True])
def test_int8_no_bias_batched_rows(per_channel):
    data = fc_model((3, 20), (3, 9), 20, 9, np.int8, per_channel=per_channel, bias=None, seed=5)
    assert_tflm_parity(data, [random_inputs((3, 20), np.int8, N, seed=5)])


def test_int8_weight_zero_point():
    data = fc_model((1, 24), (1, 8), 24, 8, np.int8, w_zero_point=3, seed=6)
    assert_tflm_parity(data, [random_inputs((1, 24), np.int8, N, seed=6)])


def test_int8_int4_weights():
    data = fc_model((1, 33), (1, 7), 33, 7, np.int8, int4=True, seed=7)
    assert_tflm_parity(data, [random_inputs((1, 33), np.int8, N, seed=7)])


def test_unpack_int4_golden():
    np.testing.assert_array_equal(unpack_int4(np.array([0x12, 0xF8, 0x07], np.uint8), 5),
                                  [2, 1, -8, -1, 7])


def test_int8_int32_wraparound():
    data = fc_model((1, 16), (1, 6), 16, 6, np.int8, big_bias=True, seed=8)
    assert_tflm_parity(data, [random_inputs((1, 16), np.int8, N, seed=8)])


def test_int8_float64_matmul_path():
    k = 2500
    data = fc_model((1, k), (1, 5), k, 5, np.int8, per_channel=True, seed=9)
    g = read_tflite(data).main
    assert matmul_dtype(128, g.tensors[1].data.T) == np.float64
    assert_tflm_parity(data, [random_inputs((1, k), np.int8, N, seed=9)])


def test_rank4_input_flattened_and_keep_num_dims():
    data = fc_model((1, 2, 3, 4), (1, 6), 24, 6, np.int8, seed=10)
    assert_tflm_parity(data, [random_inputs((1, 2, 3, 4), np.int8, N, seed=10)])
    data = fc_model((1, 3, 8), (1, 3, 5), 8, 5, np.int8, keep_num_dims=True, seed=11)
    assert_tflm_parity(data, [random_inputs((1, 3, 8), np.int8, N, seed=11)])


@pytest.mark.parametrize("bias,bias_type", [("int64", 0), ("int32", 0), (None, 0), (None, 2)])
@pytest.mark.parametrize("per_channel", [False, True])
def test_int16x8(bias, bias_type, per_channel):
    seed = 20 + (bias_type or 0) + (3 if per_channel else 0) + (7 if bias else 0)
    data = fc_model((1, 29), (1, 11), 29, 11, np.int16, per_channel=per_channel, bias=bias,
                    bias_type=bias_type, seed=seed, act=1 if bias == "int32" else 0)
    assert_tflm_parity(data, [random_inputs((1, 29), np.int16, N, seed=seed)])


@pytest.mark.parametrize("act", [0, 1, 2, 3])
def test_float(act):
    data = fc_model((2, 19), (2, 7), 19, 7, np.float32, act=act, seed=30 + act)
    assert_tflm_parity(data, [float_inputs((2, 19), seed=30 + act)])


def test_float_no_bias_keep_num_dims():
    data = fc_model((1, 2, 12), (1, 2, 4), 12, 4, np.float32, bias=None, keep_num_dims=True, seed=35)
    assert_tflm_parity(data, [float_inputs((1, 2, 12), seed=35)])


def test_float_summation_order_and_blocks():
    """Weights where any other summation order than TFLM's sequential one changes the result, one
    output column (the padded path) and a wide layer whose accumulation spans several blocks."""
    k = 48
    b = GraphBuilder()
    x = b.input("x", (1, k), np.float32)
    w = np.ones((1, k), np.float32)
    w[0, 0::8], w[0, 7::8] = 1e8, -1e8
    y = b.tensor("y", (1, 1), np.float32)
    b.op("FULLY_CONNECTED", [x, b.const("w", w), -1], [y])
    b.output(y)
    xs = float_inputs((1, k), seed=40, scale=1.0)
    xs[3:] = np.abs(xs[3:]) + np.float32(0.5)
    got = assert_tflm_parity(write_tflite(b.build()), [xs])
    assert np.any(got[3:] != (xs[3:].astype(np.float64) * w).sum(axis=-1)[..., None])
    data = fc_model((1, 200), (1, 300), 200, 300, np.float32, seed=41)
    assert_tflm_parity(data, [float_inputs((1, 200), seed=41)])


def test_bias_scale_mismatch_refused_like_tflm():
    data = fc_model((1, 8), (1, 4), 8, 4, np.int8, bias_scale_ratio=1e4, seed=36)
    with pytest.raises(microforge.errors.UnsupportedOpError, match="bias scale"):
        microforge.load(data)
    with pytest.raises(RuntimeError):
        tflm_run(data, [[np.zeros((1, 8), np.int8)]])


@pytest.mark.parametrize("name", [
    "micro_speech_quantized.tflite", "keyword_scrambled.tflite", "keyword_scrambled_8bit.tflite",
    "trained_lstm_int8.tflite", "trained_lstm.tflite", "dtln_noise_suppression.tflite",
    "hello_world_int8.tflite", "hello_world_float.tflite",
])
def test_extracted_ops_of_models(name):
    graph = read_tflite(MODELS / name)
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode == "FULLY_CONNECTED"]
    assert indices
    for i in indices:
        data = write_tflite(extract_operator(graph, i))
        t = graph.main.tensors[graph.main.operators[i].inputs[0]]
        if t.dtype == np.float32:
            xs = float_inputs(t.shape, seed=i)
        else:
            xs = random_inputs(t.shape, t.dtype, N, seed=i)
        assert_tflm_parity(data, [xs])


@pytest.mark.parametrize("name", ["hello_world_int8.tflite", "hello_world_float.tflite"])
def test_hello_world_whole_model(name):
    model = microforge.load(MODELS / name)
    info = model.inputs[0]
    if info.dtype == np.float32:
        xs = np.concatenate([np.array([0.0, -0.0, 3e38, -3e38, np.pi, 2 * np.pi], np.float32),
                             np.linspace(-1, 7, N - 6, dtype=np.float32)]).reshape((N,) + info.shape)
    else:
        xs = random_inputs(info.shape, info.dtype, N, seed=0)
    assert_tflm_parity((MODELS / name).read_bytes(), [xs])
