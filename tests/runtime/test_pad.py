"""Oracle tests of PAD and PADV2 against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.ir.builder import GraphBuilder
from tests.builders.arrays import sample
from tests.runtime._parity import assert_both_reject, assert_parity

DTYPES = [np.float32, np.int8, np.int16, np.int32]
CASES = [
    # (input shape, paddings)
    ((5,), [[2, 3]]),
    ((3, 4), [[1, 0], [0, 2]]),
    ((1, 4, 5, 3), [[0, 0], [1, 2], [2, 1], [0, 0]]),  # image style
    ((2, 3, 4, 2), [[1, 1], [0, 0], [1, 0], [2, 1]]),
    ((1, 2, 3, 2, 2), [[0, 1], [1, 0], [0, 0], [2, 2], [1, 0]]),
    ((2, 3), [[0, 0], [0, 0]]),
]


def _quant(dtype):
    return {np.int8: (0.1, -5), np.int16: (0.01, 0)}.get(dtype, (None, None))


def _model(op, dtype, shape, pads, value=None):
    pads = np.array(pads, np.int32)
    out_shape = tuple(int(s + a + b) for s, (a, b) in zip(shape, pads))
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *_quant(dtype))
    p = b.const("p", pads)
    inputs = [x, p]
    if value is not None:
        scale, zero_point = _quant(dtype)
        inputs.append(b.const("v", np.array([value], dtype), scale=scale, zero_point=zero_point))
    y = b.tensor("y", out_shape, dtype, *_quant(dtype))
    b.op(op, inputs, [y])
    b.output(y)
    return b


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_pad(dtype, case):
    shape, pads = CASES[case]
    assert_parity(_model("PAD", dtype, shape, pads), [sample(shape, dtype, case)])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_padv2_constant(dtype, case):
    shape, pads = CASES[case]
    value = {np.float32: -2.5, np.int8: 77, np.int16: -1234, np.int32: 99999}[dtype]
    assert_parity(_model("PADV2", dtype, shape, pads, value), [sample(shape, dtype, case)])


def test_int8_pad_value_quantized_differently_is_refused():
    b = _model("PADV2", np.int8, (2, 3), [[1, 1], [0, 1]], 5)
    b.tensors[2].quant.zero_point[:] = 3
    assert_both_reject(b)


def test_negative_paddings_are_refused():
    import microforge
    from microforge.errors import UnsupportedOpError
    from microforge.frontends.tflite.writer import write_tflite

    b = _model("PAD", np.float32, (4, 3), [[1, -1], [0, 0]])
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(b.build()))
