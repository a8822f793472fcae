"""Oracle tests of CAST against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import extract_operator
from tests.builders.arrays import sample
from tests.builders.ops import cast_inputs, cast_model
from tests.oracle import MODELS
from tests.runtime._parity import assert_parity

FROM = [np.int8, np.int16, np.int32, np.uint32, np.float32, np.bool_]
TO = [np.int8, np.int16, np.int32, np.uint32, np.float32]


@pytest.mark.parametrize("src", FROM, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("dst", TO, ids=lambda d: np.dtype(d).name)
def test_cast(src, dst):
    assert_parity(cast_model(src, dst), [cast_inputs(src, 3)])


@pytest.mark.parametrize("src,dst", [(np.int64, np.int32), (np.int32, np.bool_)])
def test_unsupported_pairs_rejected(src, dst):
    """TFLM's CAST accepts these in Prepare but fails at Invoke; microforge refuses to load."""
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(cast_model(src, dst).build()))


@pytest.mark.parametrize("model", ["audio_preprocessor_int8", "audio_preprocessor_float"])
def test_audio_preprocessor_casts(model):
    graph = read_tflite(MODELS / f"{model}.tflite")
    for i, op in enumerate(graph.main.operators):
        if op.opcode == "CAST":
            one = extract_operator(graph, i)
            t = one.main.tensors[one.main.inputs[0]]
            assert_parity(one, [sample(t.shape, t.dtype, i)])
