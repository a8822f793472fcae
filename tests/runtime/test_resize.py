"""Oracle tests of RESIZE_NEAREST_NEIGHBOR against tflite-micro: float32, int8 and int16, every
combination of align_corners and half_pixel_centers, upscale, downscale and sizes of one."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.writer import write_tflite
from microforge.runtime.kernels.resize import nearest_indices
from tests.builders.arrays import sample
from tests.builders.prelu_resize import RESIZE_CASES, RESIZE_OPTIONS, resize_model
from tests.runtime._parity import assert_parity

QUANT = {np.float32: (None, None), np.int8: (0.05, 3), np.int16: (0.001, 0)}


@pytest.mark.parametrize("dtype", list(QUANT), ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("options", RESIZE_OPTIONS, ids=["plain", "align", "half", "both"])
def test_resize(dtype, options):
    for case, (in_shape, size) in enumerate(RESIZE_CASES):
        b = resize_model(dtype, in_shape, size, *options, quant=QUANT[dtype])
        assert_parity(b, [sample(in_shape, dtype, case, n=20)])


def test_indices_of_a_large_non_integer_factor():
    """Float32 products near an integer boundary (in 97 -> out 300 and back) through TFLM."""
    for in_h, out_h in [(97, 300), (300, 97)]:
        for options in RESIZE_OPTIONS:
            b = resize_model(np.int8, (1, in_h, 1, 1), (out_h, 1), *options, quant=(0.05, 0))
            x = np.arange(in_h, dtype=np.int64).astype(np.int8).reshape(1, 1, in_h, 1, 1)
            got = assert_parity(b, [x])[0]
            picked = nearest_indices(in_h, out_h, *options)
            np.testing.assert_array_equal(got.reshape(-1), x.reshape(-1)[picked])


def test_size_must_be_constant():
    b = resize_model(np.float32, (1, 4, 5, 3), (8, 10), False, False)
    b.tensors[2].data = None
    b.inputs.append(2)
    with pytest.raises(UnsupportedOpError, match="constant"):
        microforge.load(write_tflite(b.build()))
