"""Oracle tests of PRELU against tflite-micro: float32, int8 and int16 (int8 alpha), broadcast
alphas of every common layout, random scales and zero points."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder
from tests.builders.arrays import sample
from tests.builders.prelu_resize import PRELU_CASES, prelu_model
from tests.runtime._parity import assert_parity

CASES = range(len(PRELU_CASES))


@pytest.mark.parametrize("case", CASES)
def test_float(case):
    in_shape, alpha_shape = PRELU_CASES[case]
    assert_parity(prelu_model(np.float32, in_shape, alpha_shape, case),
                  [sample(in_shape, np.float32, case, scale=4.0)])


@pytest.mark.parametrize("dtype", [np.int8, np.int16], ids=["int8", "int16"])
@pytest.mark.parametrize("case", CASES)
def test_quantized(dtype, case):
    in_shape, alpha_shape = PRELU_CASES[case]
    for seed in range(3):
        assert_parity(prelu_model(dtype, in_shape, alpha_shape, 10 * case + seed),
                      [sample(in_shape, dtype, seed)])


def test_multiplier_above_one():
    """Input scale far above the output scale: both multipliers have positive shifts."""
    b = prelu_model(np.int8, (1, 4, 5, 3), (3,), 7)
    b.tensors[0].quant.scale[:] = 0.5
    b.tensors[2].quant.scale[:] = 0.01
    assert_parity(b, [sample((1, 4, 5, 3), np.int8, 7)])


def test_int16_needs_an_int8_alpha():
    b = prelu_model(np.int16, (1, 4, 5, 3), (3,), 1, alpha_dtype=np.int16)
    with pytest.raises(UnsupportedOpError, match="int8 alpha"):
        microforge.load(write_tflite(b.build()))


def test_alpha_that_does_not_broadcast_is_refused():
    b = GraphBuilder()
    x = b.input("x", (1, 4, 5, 2), np.float32)
    y = b.tensor("y", (1, 4, 5, 3), np.float32)
    b.op("PRELU", [x, b.const("alpha", np.ones(3, np.float32))], [y])
    b.output(y)
    with pytest.raises(UnsupportedOpError, match="broadcast"):
        microforge.load(write_tflite(b.build()))
