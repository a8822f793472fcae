"""Oracle tests of TRANSPOSE against tflite-micro."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.writer import write_tflite
from tests.builders.arrays import sample
from tests.builders.ops import transpose_model
from tests.runtime._parity import assert_both_reject, assert_parity

DTYPES = [np.int8, np.int16, np.float32]


def _perms(rank):
    return list(itertools.permutations(range(rank)))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("perm", _perms(2) + _perms(3) + _perms(4), ids=str)
def test_permutations(dtype, perm):
    shape = (2, 3, 4, 5)[: len(perm)]
    assert_parity(transpose_model(shape, perm, dtype), [sample(shape, dtype, len(perm))])


@pytest.mark.parametrize("perm", [(4, 3, 2, 1, 0), (0, 2, 4, 1, 3), (1, 0, 2, 3, 4), (3, 4, 0, 2, 1)])
def test_rank_5(perm):
    shape = (2, 1, 3, 2, 4)
    assert_parity(transpose_model(shape, perm, np.float32), [sample(shape, np.float32, 5)])


def test_rank_1():
    assert_parity(transpose_model((7,), (0,), np.int8), [sample((7,), np.int8, 1)])


def test_non_constant_perm_rejected():
    assert_both_reject(transpose_model((2, 3), (1, 0), np.int8, const=False))


def test_rank_6_rejected():
    assert_both_reject(transpose_model((1, 2, 1, 2, 1, 2), (5, 4, 3, 2, 1, 0), np.int8))


def test_int32_rejected():
    """TFLM prepares an int32 TRANSPOSE but fails at Invoke; microforge refuses to load it."""
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(transpose_model((2, 3), (1, 0), np.int32).build()))
