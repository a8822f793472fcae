"""QUANTIZE and DEQUANTIZE against tflite-micro: 200 seeded inputs per case (dtype extremes first),
one batch in microforge, one sample at a time in TFLM, compared bit for bit. Covers float32 ->
int8/int16 (halves, special values, beyond-int32 values and the x86 conversion they hit), every
integer requantization pair TFLM evaluates with scale ratios above and below one, DEQUANTIZE of
int8/int16/uint8, and the QUANTIZE ops of keyword_scrambled."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.quantize import float_to_int32_x86
from tests.builders.arrays import random_inputs
from tests.oracle import MODELS, assert_tflm_parity

N = 200
SHAPE = (1, 24)




def one_op(opcode, in_dtype, in_q, out_dtype, out_q) -> bytes:
    b = GraphBuilder()
    x = b.input("x", SHAPE, in_dtype, *in_q)
    y = b.tensor("y", SHAPE, out_dtype, *out_q)
    b.op(opcode, [x], [y])
    b.output(y)
    return write_tflite(b.build())


def float_inputs(scale: float, seed: int) -> np.ndarray:
    x = (random_inputs(SHAPE, np.float32, N, seed) * scale).astype(np.float32)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45, 3e9, -3e9, 2.5, -2.5, 0.5, -0.5]
    x[0, 0, : len(special)] = special
    rng = np.random.default_rng(seed)
    halves = (rng.integers(-300, 300, (10,) + SHAPE) + 0.5).astype(np.float32)
    x[1:11] = halves * np.float32(0.05)
    return x


@pytest.mark.parametrize("out_dtype,scale,zp", [
    (np.int8, 0.05, 0), (np.int8, 0.0592, -128), (np.int8, 1.0, 7), (np.int16, 0.000625, 0),
    (np.int16, 0.01, -3), (np.int16, 3e-5, 100),
])
def test_float_to_int(out_dtype, scale, zp):
    data = one_op("QUANTIZE", np.float32, (), out_dtype, (scale, zp))
    limit = scale * np.iinfo(out_dtype).max * 1.3
    assert_tflm_parity(data, float_inputs(limit, seed=int(scale * 1e4) + zp))


@pytest.mark.parametrize("in_dtype,out_dtype", [
    ("int8", "int8"), ("int8", "uint8"), ("int8", "int16"), ("int8", "int32"), ("uint8", "int8"),
    ("int16", "int8"), ("int16", "int16"), ("int16", "int32"), ("int32", "int8"), ("int32", "int16"),
])
@pytest.mark.parametrize("ratio", [0.37, 1.0, 2.9])
def test_requantize(in_dtype, out_dtype, ratio):
    rng = np.random.default_rng(len(in_dtype) * 7 + len(out_dtype) + int(ratio * 10))
    in_scale = float(rng.uniform(0.001, 0.1))
    out_scale = in_scale / ratio
    if out_dtype == "int32":
        out_scale = in_scale / 3.3  # keep the multiplier sane for a 32-bit output
    zp_range = {"int8": 20, "uint8": 20, "int16": 50, "int32": 1000}
    in_zp = int(rng.integers(-zp_range[in_dtype], zp_range[in_dtype]))
    out_zp = int(rng.integers(-zp_range[out_dtype], zp_range[out_dtype]))
    if in_dtype == "uint8":
        in_zp = 128 + in_zp
    if out_dtype == "uint8":
        out_zp = 128 + out_zp
    data = one_op("QUANTIZE", np.dtype(in_dtype), (in_scale, in_zp), np.dtype(out_dtype), (out_scale, out_zp))
    assert_tflm_parity(data, random_inputs(SHAPE, np.dtype(in_dtype), N, seed=int(ratio * 100)))


def test_requantize_same_scale_int8_uint8_flip():
    data = one_op("QUANTIZE", np.int8, (0.02, -3), np.uint8, (0.02, 125))
    assert_tflm_parity(data, random_inputs(SHAPE, np.int8, N, seed=1))
    data = one_op("QUANTIZE", np.uint8, (0.02, 125), np.int8, (0.02, -3))
    assert_tflm_parity(data, random_inputs(SHAPE, np.uint8, N, seed=2))


@pytest.mark.parametrize("in_dtype,scale,zp", [
    (np.int8, 0.05, -128), (np.int8, 0.0123, 17), (np.int16, 0.000625, 0), (np.int16, 3.3e-5, -9),
    (np.uint8, 0.1, 128),
])
def test_dequantize(in_dtype, scale, zp):
    data = one_op("DEQUANTIZE", in_dtype, (scale, zp), np.float32, ())
    assert_tflm_parity(data, random_inputs(SHAPE, in_dtype, N, seed=zp & 0xFF))


def test_float_to_int32_conversion_like_x86():
    x = np.array([2147483520.0, 2147483648.0, -2147483648.0, -2147483904.0, np.nan, -1.9, 1.9],
                 np.float32)
    np.testing.assert_array_equal(float_to_int32_x86(x),
                                  [2147483520, -(2**31), -(2**31), -(2**31), -(2**31), -1, 1])


@pytest.mark.parametrize("name", ["keyword_scrambled.tflite", "keyword_scrambled_8bit.tflite"])
def test_extracted_ops_of_models(name):
    graph = read_tflite(MODELS / name)
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode == "QUANTIZE"]
    assert len(indices) == 2
    for i in indices:
        t = graph.main.tensors[graph.main.operators[i].inputs[0]]
        data = write_tflite(extract_operator(graph, i))
        assert_tflm_parity(data, random_inputs(t.shape, t.dtype, N, seed=i))
