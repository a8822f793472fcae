"""Oracle tests of PAD and PADV2 against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

from tests.builders.arrays import sample
from tests.builders.ops import PAD_CASES, pad_model
from tests.runtime._parity import assert_both_reject, assert_parity

DTYPES = [np.float32, np.int8, np.int16, np.int32]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", range(len(PAD_CASES)))
def test_pad(dtype, case):
    shape, pads = PAD_CASES[case]
    assert_parity(pad_model("PAD", dtype, shape, pads), [sample(shape, dtype, case)])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", range(len(PAD_CASES)))
def test_padv2_constant(dtype, case):
    shape, pads = PAD_CASES[case]
    value = {np.float32: -2.5, np.int8: 77, np.int16: -1234, np.int32: 99999}[dtype]
    assert_parity(pad_model("PADV2", dtype, shape, pads, value), [sample(shape, dtype, case)])


def test_int8_pad_value_quantized_differently_is_refused():
    b = pad_model("PADV2", np.int8, (2, 3), [[1, 1], [0, 1]], 5)
    b.tensors[2].quant.zero_point[:] = 3
    assert_both_reject(b)


def test_negative_paddings_are_refused():
    import microforge
    from microforge.errors import UnsupportedOpError
    from microforge.frontends.tflite.writer import write_tflite

    b = pad_model("PAD", np.float32, (4, 3), [[1, -1], [0, 0]])
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(b.build()))
