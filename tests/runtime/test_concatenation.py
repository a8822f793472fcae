"""Oracle tests of CONCATENATION against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import extract_operator
from tests.builders.arrays import sample
from tests.builders.ops import concat_model
from tests.oracle import MODELS
from tests.runtime._parity import assert_both_reject, assert_parity

DTYPES = [np.int8, np.int16, np.int32, np.float32]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -2, -4])
def test_axes(dtype, axis):
    base = [2, 3, 4, 2]
    shapes = []
    for k in (1, 2, 3):
        s = list(base)
        s[axis] = k
        shapes.append(tuple(s))
    b, feeds = concat_model(shapes, axis, dtype)
    assert_parity(b, feeds)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_constant_inputs(dtype):
    b, feeds = concat_model([(5,), (7,), (3,), (1,)], 0, dtype, consts=(0, 3))
    assert_parity(b, feeds)


def test_rank_1_and_5():
    b, feeds = concat_model([(4,), (6,)], -1, np.int32)
    assert_parity(b, feeds)
    b, feeds = concat_model([(1, 2, 1, 3, 2), (1, 2, 1, 3, 5)], 4, np.float32)
    assert_parity(b, feeds)


def test_int16_scales_not_compared():
    """TFLM copies int16 values unchanged even when the scales differ."""
    quants = [(0.001, 0), (0.004, 0), (0.002, 0)]
    b, feeds = concat_model([(2, 3), (2, 5)], 1, np.int16, quants=quants)
    assert_parity(b, feeds)


@pytest.mark.parametrize(
    "quants", [[(0.05, 0), (0.06, 0), (0.05, 0)], [(0.05, 1), (0.05, 0), (0.05, 0)]]
)
def test_int8_quantization_mismatch_rejected(quants):
    b, _ = concat_model([(2, 3), (2, 5)], 1, np.int8, quants=quants)
    assert_both_reject(b)


def test_fused_activation_rejected():
    b, _ = concat_model([(2, 3), (2, 5)], 1, np.float32)
    b.operators[0].options["fused_activation_function"] = 1
    assert_both_reject(b)


def test_audio_preprocessor_concatenation():
    graph = read_tflite(MODELS / "audio_preprocessor_int8.tflite")
    index = next(i for i, op in enumerate(graph.main.operators) if op.opcode == "CONCATENATION")
    one = extract_operator(graph, index)
    feeds = [sample(one.main.tensors[i].shape, np.int32, 5 + k) for k, i in enumerate(one.main.inputs)]
    assert_parity(one, feeds)
