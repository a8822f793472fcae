"""Oracle tests of MEAN, SUM, REDUCE_MAX and REDUCE_MIN against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.writer import write_tflite
from tests.builders.arrays import sample
from tests.builders.ops import REDUCE_AXES, REDUCE_SHAPE, reduce_model, reduce_quant
from tests.oracle import tflm_run
from tests.runtime._parity import assert_parity


@pytest.mark.parametrize("op", ["MEAN", "SUM"])
@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axes", REDUCE_AXES, ids=str)
@pytest.mark.parametrize("keep_dims", [True, False])
def test_mean_sum(op, dtype, axes, keep_dims):
    seed = len(axes) * 7 + sum(axes) + (op == "SUM")
    for same in (True, False):
        qin, qout = reduce_quant(dtype, same, seed)
        if op == "SUM" and dtype != np.float32:  # keep the sum's output scale large enough
            qout = (qin[0] * 8, qout[1])
        b = reduce_model(op, REDUCE_SHAPE, axes, keep_dims, dtype, qin, qout)
        assert_parity(b, [sample(REDUCE_SHAPE, dtype, seed, scale=100.0)])


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.float32], ids=lambda d: np.dtype(d).name)
def test_mean_large_spatial(dtype):
    """A 96x96 spatial mean: float32 rounding order over many terms, a large 1/n fold."""
    shape = (1, 96, 96, 2)
    qin, qout = reduce_quant(dtype, False, 3)
    b = reduce_model("MEAN", shape, (1, 2), True, dtype, qin, qout)
    assert_parity(b, [sample(shape, dtype, 4, scale=1000.0)])


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("dtype", [np.int8, np.float32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axes", REDUCE_AXES[:7], ids=str)
def test_max_min(op, dtype, axes):
    qin, _ = reduce_quant(dtype, True, 1)
    b = reduce_model(op, REDUCE_SHAPE, axes, False, dtype, qin, qin)
    assert_parity(b, [sample(REDUCE_SHAPE, dtype, 11)])


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
def test_max_min_float_specials(op):
    """NaN never wins, +-inf clamp to the finite range, the first of +0.0 / -0.0 is kept."""
    rng = np.random.default_rng(5)
    pool = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0, 3e38, -3e38], np.float32)
    x = pool[rng.integers(0, len(pool), (200, 4, 3))]
    b = reduce_model(op, (4, 3), (0,), False, np.float32)
    assert_parity(b, [x])


def test_non_constant_axis_rejected():
    """TFLM reads a non-constant axis at Eval; microforge refuses it (TFLM's own models never
    have one)."""
    b = reduce_model("MEAN", (2, 3), (1,), False, np.float32, const=False)
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(b.build()))


def test_int8_max_quantization_mismatch_rejected():
    """TFLM checks this at Invoke; microforge at load."""
    data = write_tflite(reduce_model("REDUCE_MAX", (2, 3), (1,), False, np.int8, (0.1, 0), (0.2, 0)).build())
    with pytest.raises(UnsupportedOpError):
        microforge.load(data)
    with pytest.raises(RuntimeError):
        tflm_run(data, [[np.zeros((2, 3), np.int8)]])
