"""Oracle tests of CAST against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from tests.builders.arrays import sample
from tests.oracle import MODELS
from tests.runtime._parity import assert_parity

FROM = [np.int8, np.int16, np.int32, np.uint32, np.float32, np.bool_]
TO = [np.int8, np.int16, np.int32, np.uint32, np.float32]
SHAPE = (3, 16)
FLOAT_SPECIALS = [
    0.0, -0.0, 0.5, -0.5, 0.999, -0.999, 1.5, -1.5, 127.9, 128.0, -128.9, -129.0, 255.5, 256.0,
    32767.5, 32768.0, -32769.0, 65536.0, 2.0**31 - 128, 2.0**31, -(2.0**31), -(2.0**31) - 256,
    2.0**32, 2.0**32 + 512, 4.5e9, -4.5e9, 2.0**63, -(2.0**63), 1e30, -1e30, np.inf, -np.inf,
    np.nan, -np.nan, 1e-45, -3.3e9, 3.3e9, 1e19, -1e19, 123456.7,
]


def _cast(src, dst):
    b = GraphBuilder()
    x = b.input("x", SHAPE, src)
    y = b.tensor("y", SHAPE, dst)
    b.op("CAST", [x], [y], in_data_type=0, out_data_type=0)
    b.output(y)
    return b


def _inputs(src, seed):
    if src == np.bool_:
        return np.random.default_rng(seed).integers(0, 2, (200,) + SHAPE).astype(np.bool_)
    if src != np.float32:
        return sample(SHAPE, src, seed)
    x = sample(SHAPE, np.float32, seed, scale=3e5)
    x[1:4].reshape(-1)[: len(FLOAT_SPECIALS)] = np.array(FLOAT_SPECIALS, np.float32)
    x[4:100] *= np.float32(1e5)  # beyond int32 for some
    return x


@pytest.mark.parametrize("src", FROM, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("dst", TO, ids=lambda d: np.dtype(d).name)
def test_cast(src, dst):
    assert_parity(_cast(src, dst), [_inputs(src, 3)])


@pytest.mark.parametrize("src,dst", [(np.int64, np.int32), (np.int32, np.bool_)])
def test_unsupported_pairs_rejected(src, dst):
    """TFLM's CAST accepts these in Prepare but fails at Invoke; microforge refuses to load."""
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(_cast(src, dst).build()))


@pytest.mark.parametrize("model", ["audio_preprocessor_int8", "audio_preprocessor_float"])
def test_audio_preprocessor_casts(model):
    graph = read_tflite(MODELS / f"{model}.tflite")
    for i, op in enumerate(graph.main.operators):
        if op.opcode == "CAST":
            one = extract_operator(graph, i)
            t = one.main.tensors[one.main.inputs[0]]
            assert_parity(one, [sample(t.shape, t.dtype, i)])
