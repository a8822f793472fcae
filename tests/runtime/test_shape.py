"""Oracle tests of RESHAPE, SQUEEZE and EXPAND_DIMS against tflite-micro."""

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
from tests.runtime._parity import assert_both_reject, assert_parity

DTYPES = [np.int8, np.int16, np.float32]


def _q(dtype):
    return (0.02, 5) if dtype in (np.int8, np.int16) else (None, None)


def _reshape(in_shape, out_shape, dtype, shape_input="const", shape_value=None):
    b = GraphBuilder()
    x = b.input("x", in_shape, dtype, *_q(dtype))
    y = b.tensor("y", out_shape, dtype, *_q(dtype))
    value = np.array(out_shape if shape_value is None else shape_value, np.int32)
    inputs = [x]
    if shape_input == "const":
        inputs.append(b.const("shape", value))
    elif shape_input == "input":
        inputs.append(b.input("shape", value.shape, np.int32))
    b.op("RESHAPE", inputs, [y], new_shape=value)
    b.output(y)
    return b


@pytest.mark.parametrize("dtype", DTYPES + [np.int32], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape_input", ["const", "option-only"])
def test_reshape(dtype, shape_input):
    b = _reshape((2, 3, 4), (4, 6), dtype, shape_input)
    assert_parity(b, [sample((2, 3, 4), dtype, 1)])


def test_reshape_stretch_dim_in_shape_tensor():
    b = _reshape((1, 1960), (1, 49, 40, 1), np.int8, shape_value=[-1, 49, 40, 1])
    assert_parity(b, [sample((1, 1960), np.int8, 2)])


def test_reshape_non_constant_shape_input_is_ignored():
    """TFLM never reads the shape tensor; the output tensor's shape decides."""
    b = _reshape((3, 4), (2, 6), np.float32, shape_input="input")
    xs = sample((3, 4), np.float32, 3)
    shapes = np.tile(np.array([2, 6], np.int32), (len(xs), 1))
    assert_parity(b, [xs, shapes])


def test_reshape_size_mismatch_rejected():
    from microforge.errors import ModelError

    assert_both_reject(_reshape((3, 4), (5, 2), np.int8), ModelError)


def _squeeze(in_shape, dims, dtype=np.int8):
    rank = len(in_shape)
    drop = {d + rank if d < 0 else d for d in dims} or {k for k, s in enumerate(in_shape) if s == 1}
    out_shape = tuple(s for k, s in enumerate(in_shape) if k not in drop)
    b = GraphBuilder()
    x = b.input("x", in_shape, dtype, *_q(dtype))
    y = b.tensor("y", out_shape, dtype, *_q(dtype))
    b.op("SQUEEZE", [x], [y], squeeze_dims=np.array(dims, np.int32))
    b.output(y)
    return b


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("dims", [[0], [2], [-1], [0, -3], []], ids=str)
def test_squeeze(dtype, dims):
    shape = (1, 3, 1, 4, 1)
    assert_parity(_squeeze(shape, dims, dtype), [sample(shape, dtype, 4)])


def test_squeeze_non_unit_axis_rejected():
    b = _squeeze((1, 3, 1), [0])
    b.operators[0].options["squeeze_dims"] = np.array([1], np.int32)
    b.tensors[b.outputs[0]].shape = (1, 3)
    assert_both_reject(b)


def _expand(in_shape, axis, dtype=np.int8, out_shape=None):
    rank = len(in_shape)
    pos = axis + rank + 1 if axis < 0 else axis
    out_shape = out_shape or in_shape[:pos] + (1,) + in_shape[pos:]
    b = GraphBuilder()
    x = b.input("x", in_shape, dtype, *_q(dtype))
    a = b.const("axis", np.array([axis], np.int32))
    y = b.tensor("y", out_shape, dtype, *_q(dtype))
    b.op("EXPAND_DIMS", [x, a], [y])
    b.output(y)
    return b


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -2, -4])
def test_expand_dims(dtype, axis):
    shape = (2, 3, 4)
    assert_parity(_expand(shape, axis, dtype), [sample(shape, dtype, 5)])


def test_expand_dims_wrong_output_rejected():
    assert_both_reject(_expand((2, 3), 1, out_shape=(2, 3, 1)))


def test_expand_dims_int32_rejected():
    """TFLM prepares an int32 EXPAND_DIMS but fails at Invoke; microforge refuses to load it."""
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(_expand((2, 3), 1, np.int32).build()))


@pytest.mark.parametrize(
    "model", ["micro_speech_quantized", "person_detect", "trained_lstm_int8", "trained_lstm",
              "audio_preprocessor_int8"]
)
def test_shared_model_reshapes(model):
    graph = read_tflite(MODELS / f"{model}.tflite")
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode == "RESHAPE"]
    assert indices
    for i in indices:
        one = extract_operator(graph, i)
        t = one.main.tensors[one.main.inputs[0]]
        assert_parity(one, [sample(t.shape, t.dtype, i)])
