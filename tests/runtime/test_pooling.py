"""Oracle tests of AVERAGE_POOL_2D and MAX_POOL_2D against tflite-micro."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.common import compute_padding
from tests.builders.arrays import random_inputs, sample
from tests.oracle import MODELS
from tests.runtime._parity import assert_both_reject, assert_parity

N = 200
SAME, VALID = 0, 1
QUANT = {np.dtype(np.int8): (0.05, -7), np.dtype(np.int16): (0.001, 0),
         np.dtype(np.float32): (None, None)}

GEOMETRIES = [
    # (padding, stride, filter (h, w), input (h, w))
    (SAME, 1, (3, 3), (5, 6)),
    (VALID, 1, (3, 3), (5, 6)),
    (SAME, 2, (3, 3), (7, 6)),
    (VALID, 2, (2, 2), (8, 7)),
    (SAME, 2, (1, 4), (5, 9)),
    (SAME, 1, (6, 5), (4, 3)),  # windows larger than the image, clipped everywhere
    (VALID, 2, (3, 3), (3, 3)),  # person_detect's final pooling
]


def _pool(op, dtype, in_shape, padding, stride, k, act):
    dtype = np.dtype(dtype)
    out_h, _ = compute_padding(padding, in_shape[1], k[0], stride)
    out_w, _ = compute_padding(padding, in_shape[2], k[1], stride)
    scale, zp = QUANT[dtype]
    b = GraphBuilder()
    x = b.input("x", in_shape, dtype, scale, zp)
    y = b.tensor("y", (in_shape[0], out_h, out_w, in_shape[3]), dtype, scale, zp)
    b.op(op, [x], [y], padding=padding, stride_w=stride, stride_h=stride, filter_height=k[0],
         filter_width=k[1], fused_activation_function=act)
    b.output(y)
    return b


def _inputs(shape, dtype, seed):
    if np.dtype(dtype) == np.float32:
        return sample(shape, dtype, seed, scale=8.0)
    return random_inputs(shape, dtype, N, seed)


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("geometry", GEOMETRIES, ids=str)
def test_geometry(op, dtype, geometry):
    padding, stride, k, hw = geometry
    shape = (1,) + hw + (3,)
    assert_parity(_pool(op, dtype, shape, padding, stride, k, 0), [_inputs(shape, dtype, 1)])


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("act", [1, 2, 3])
def test_fused_activation(op, dtype, act):
    shape = (2, 6, 5, 4)  # a model batch of 2
    x = _inputs(shape, dtype, 10 + act)
    if np.dtype(dtype) == np.int16:  # values around the RELU bounds
        x = (x // 8).astype(np.int16)
    assert_parity(_pool(op, dtype, shape, SAME, 2, (3, 3), act), [x])


def test_average_rounding_every_sum():
    """int8 2x2 windows holding every small sum, both signs: halves round away from zero."""
    values = np.arange(-128, 128, dtype=np.int8)
    x = np.stack([np.roll(values, s).reshape(1, 16, 16, 1) for s in range(N)])
    assert_parity(_pool("AVERAGE_POOL_2D", np.int8, (1, 16, 16, 1), SAME, 1, (2, 3), 0), [x])


def test_unequal_quantization_is_refused():
    b = GraphBuilder()
    x = b.input("x", (1, 4, 4, 1), np.int8, 0.05, 0)
    y = b.tensor("y", (1, 2, 2, 1), np.int8, 0.05, 3)
    b.op("AVERAGE_POOL_2D", [x], [y], padding=VALID, stride_w=2, stride_h=2, filter_height=2,
         filter_width=2, fused_activation_function=0)
    b.output(y)
    assert_both_reject(b)


def test_person_detect_average_pool():
    graph = read_tflite(MODELS / "person_detect.tflite")
    for i, op in enumerate(graph.main.operators):
        if op.opcode == "AVERAGE_POOL_2D":
            one = extract_operator(graph, i)
            x = one.main.tensors[one.main.inputs[0]]
            assert_parity(one, [random_inputs(x.shape, x.dtype, N, seed=i)])


def test_float_overflow_is_tflms_inf_and_prints_no_warning():
    """A float sum past float32's range is inf (and a NaN stays NaN) in TFLM's C; numpy gives
    the same values and must not print a RuntimeWarning for them."""
    shape = (1, 2, 2, 1)
    big = np.finfo(np.float32).max
    x = np.full((3,) + shape, big, np.float32)
    x[1] *= -1
    x[2, 0, 0, 0, 0] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_parity(_pool("AVERAGE_POOL_2D", np.float32, shape, VALID, 1, (2, 2), 0), [x])
