"""SOFTMAX against tflite-micro: 200 seeded inputs per case (dtype extremes first, then a mix of
full-range and narrow-range rows so that many outputs are neither 0 nor 1), one batch in microforge,
one sample at a time in TFLM, compared bit for bit. Covers int8 -> int8, int8 -> int16,
int16 -> int16 and float32, several betas and input scales, the int8 diff_min cut-off, rank-3
rows, special float values, TFLM's output-quantization checks and the models' softmax ops."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge import fixedpoint as fp
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.softmax import roundf
from tests.builders.arrays import random_inputs
from tests.oracle import MODELS, assert_tflm_parity, tflm_run

N = 200




def mixed_inputs(shape, dtype, seed: int, narrow: int) -> np.ndarray:
    """random_inputs, with the second half of the samples drawn from [-narrow, narrow]."""
    x = random_inputs(shape, dtype, N, seed)
    rng = np.random.default_rng(seed + 1000)
    x[N // 2 :] = rng.integers(-narrow, narrow, (N - N // 2,) + tuple(shape), endpoint=True)
    return x


def float_inputs(shape, seed: int, scale: float) -> np.ndarray:
    x = (random_inputs(shape, np.float32, N, seed) * scale).astype(np.float32)
    specials = [np.nan, np.inf, -np.inf, -0.0, 3e38, -3e38]
    for row, value in enumerate(specials, start=1):
        x[row].reshape(-1)[row % x[row].size] = value
    x[0] = -0.0
    return x


def softmax_model(shape, in_dtype, out_dtype, beta=1.0, in_scale=0.1, in_zp=0,
                  out_scale=None, out_zp=None) -> bytes:
    b = GraphBuilder()
    if in_dtype == np.float32:
        x = b.input("x", shape, np.float32)
        y = b.tensor("y", shape, np.float32)
    else:
        x = b.input("x", shape, in_dtype, in_scale, in_zp)
        default = {np.int8: (1 / 256, -128), np.int16: (1 / 32768, 0)}[out_dtype]
        if in_dtype == np.int8 and out_dtype == np.int16:
            default = (1 / 65536, -32768)
        y = b.tensor("y", shape, out_dtype, out_scale or default[0],
                     default[1] if out_zp is None else out_zp)
    b.op("SOFTMAX", [x], [y], beta=beta)
    b.output(y)
    return write_tflite(b.build())


@pytest.mark.parametrize("beta,in_scale,depth", [
    (1.0, 0.09173192, 4), (1.0, 0.02, 10), (0.5, 0.1, 37), (2.0, 0.05, 2), (1.0, 0.5, 12),
    (0.25, 0.7, 9),
])
def test_int8_to_int8(beta, in_scale, depth):
    data = softmax_model((1, depth), np.int8, np.int8, beta, in_scale, in_zp=3)
    assert_tflm_parity(data, mixed_inputs((1, depth), np.int8, seed=depth, narrow=40))


def test_int8_diff_min_cutoff_and_rank3():
    # beta * scale = 0.5: radius 31, so every input more than 31 below its row max gives -128
    data = softmax_model((2, 3, 16), np.int8, np.int8, 1.0, 0.5, in_zp=-5)
    out = assert_tflm_parity(data, mixed_inputs((2, 3, 16), np.int8, seed=3, narrow=60))
    assert (out == -128).mean() > 0.5


@pytest.mark.parametrize("beta,in_scale,depth", [(1.0, 0.06996273, 2), (0.7, 0.03, 11), (1.5, 0.2, 5)])
def test_int8_to_int16(beta, in_scale, depth):
    data = softmax_model((1, depth), np.int8, np.int16, beta, in_scale, in_zp=2)
    assert_tflm_parity(data, mixed_inputs((1, depth), np.int8, seed=depth, narrow=30))


@pytest.mark.parametrize("beta,in_scale,depth", [
    (1.0, 1 / 4096, 8), (1.0, 0.001, 3), (0.5, 3e-4, 20), (2.0, 1 / 2048, 6), (1.0, 0.01, 4),
])
def test_int16_to_int16(beta, in_scale, depth):
    data = softmax_model((1, depth), np.int16, np.int16, beta, in_scale)
    assert_tflm_parity(data, mixed_inputs((1, depth), np.int16, seed=depth, narrow=6000))


@pytest.mark.parametrize("beta,scale,shape", [(1.0, 5.0, (1, 10)), (0.3, 20.0, (2, 7)),
                                              (2.5, 1.0, (1, 3, 5))])
def test_float(beta, scale, shape):
    data = softmax_model(shape, np.float32, np.float32, beta)
    assert_tflm_parity(data, float_inputs(shape, seed=int(beta * 10), scale=scale))


@pytest.mark.parametrize("in_dtype,out_dtype,out_scale,out_zp", [
    (np.int8, np.int8, 1 / 255, -128), (np.int8, np.int8, 1 / 256, 0),
    (np.int8, np.int16, 1 / 32768, -32768), (np.int16, np.int16, 1 / 65536, 0),
])
def test_output_quantization_checked_like_tflm(in_dtype, out_dtype, out_scale, out_zp):
    data = softmax_model((1, 4), in_dtype, out_dtype, 1.0, 0.01, out_scale=out_scale, out_zp=out_zp)
    with pytest.raises(UnsupportedOpError):
        microforge.load(data)
    with pytest.raises(RuntimeError):
        tflm_run(data, [[np.zeros((1, 4), in_dtype)]])


def test_gemmlowp_helpers_golden():
    """Values from gemmlowp's fixedpoint.h at the commit TFLM pins (719139ce), compiled natively."""
    neg = [0, -1, -(1 << 20), -(1 << 26), -(3 << 26), -(31 << 26), -(2**31)]
    np.testing.assert_array_equal(fp.exp_on_negative_values(np.array(neg), 5),
                                  [2147483647, 2147483124, 2114189749, 790015308, 106916946, 0, 0])
    pos = [0, 1, 1 << 30, 2**31 - 1, 123456789]
    np.testing.assert_array_equal(fp.one_over_one_plus_x_for_x_in_0_1(np.array(pos)),
                                  [2147483647, 2147483647, 1431655762, 1073741820, 2030738432])
    reciprocal, bits_over_unit = fp.get_reciprocal(np.array([1 << 19, 3 << 19]), 12)
    np.testing.assert_array_equal(reciprocal, [2147483647, 1431655762])
    np.testing.assert_array_equal(bits_over_unit, [0, 1])


def test_roundf_halves_and_near_halves():
    x = np.array([0.5, -0.5, 1.5, 2.5, -2.5, 0.49999997, -0.49999997, 8388609.0], np.float32)
    np.testing.assert_array_equal(roundf(x), [1, -1, 2, 3, -3, 0, -0.0, 8388609.0])


@pytest.mark.parametrize("name", [
    "micro_speech_quantized.tflite", "keyword_scrambled.tflite", "keyword_scrambled_8bit.tflite",
    "trained_lstm_int8.tflite", "trained_lstm.tflite", "person_detect.tflite",
])
def test_extracted_ops_of_models(name):
    graph = read_tflite(MODELS / name)
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode == "SOFTMAX"]
    assert indices
    for i in indices:
        data = write_tflite(extract_operator(graph, i))
        t = graph.main.tensors[graph.main.operators[i].inputs[0]]
        if t.dtype == np.float32:
            xs = float_inputs(t.shape, seed=i, scale=10.0)
        else:
            xs = mixed_inputs(t.shape, t.dtype, seed=i, narrow=40)
        assert_tflm_parity(data, xs)
