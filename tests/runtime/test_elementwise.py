"""Oracle tests of ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE against tflite-micro."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from tests.builders.arrays import random_inputs, sample
from tests.builders.ops import (
    ELEMENTWISE_FUSED,
    ELEMENTWISE_QUANT_OPS,
    ELEMENTWISE_SHAPES,
    elementwise_params,
)
from tests.oracle import MODELS, tflm_run, tflm_runtime
from tests.runtime._parity import assert_both_reject, assert_parity


def _binary(op, s1, s2, dtype, q, act=None, const2=None):
    b = GraphBuilder()
    x = b.input("x", s1, dtype, *q[0])
    y = b.const("y", const2, dtype, *q[1]) if const2 is not None else b.input("y", s2, dtype, *q[1])
    out_shape = np.broadcast_shapes(s1, s2)
    z = b.tensor("z", out_shape, dtype, *q[2])
    opts = {"fused_activation_function": act} if act is not None else {}
    b.op(op, [x, y], [z], **opts)
    b.output(z)
    return b


def _int_inputs(op, s1, s2, dtype, seed):
    x, y = sample(s1, dtype, seed), sample(s2, dtype, seed + 1)
    if op == "DIV" and dtype == np.int32:  # TFLM fails on 0 and traps on INT32_MIN / -1
        y = np.where((y == 0) | (y == -1), np.int32(7), y)
    return x, y


def _combos(ops):
    """(op, dtype) pairs microforge supports (DIV: no int16, as TFLM)."""
    dtypes = [np.int8, np.int16, np.float32, np.int32]
    return [(op, d) for op in ops for d in dtypes if op != "DIV" or d != np.int16]


def _ids(v):
    return np.dtype(v).name if isinstance(v, type) else str(v)


@pytest.mark.parametrize("op,dtype", _combos(ELEMENTWISE_QUANT_OPS + ["DIV"]), ids=_ids)
@pytest.mark.parametrize("shapes", ELEMENTWISE_SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_binary(op, dtype, shapes):
    s1, s2 = shapes
    seed = zlib.crc32(repr((op, np.dtype(dtype).name, shapes)).encode()) % 1000
    rng = np.random.default_rng(seed)
    q = elementwise_params(dtype, rng, op)
    act = 1 if op in ELEMENTWISE_FUSED else None
    x, y = _int_inputs(op, s1, s2, dtype, seed)
    assert_parity(_binary(op, s1, s2, dtype, q, act), [x, y])


@pytest.mark.parametrize("op,dtype", _combos(["ADD", "SUB", "MUL", "DIV"]), ids=_ids)
@pytest.mark.parametrize("act", [0, 1, 2, 3])
def test_fused_activation(op, dtype, act):
    rng = np.random.default_rng(act)
    q = elementwise_params(dtype, rng, op)
    s1, s2 = (3, 8), (1, 8)
    x, y = _int_inputs(op, s1, s2, dtype, 10 + act)
    if dtype == np.float32:  # spread floats over the clamp bounds of every activation
        with np.errstate(over="ignore"):
            x, y = x * np.float32(8), y * np.float32(8)
    elif dtype == np.int32:  # small values, so that RELU6 / RELU_N1_TO_1 clamp visibly
        x, y = x % 17 - 8, (y % 4 + 1) * np.where(y % 2 == 0, 1, -1).astype(np.int32)
    assert_parity(_binary(op, s1, s2, dtype, q, act), [x, y])


@pytest.mark.parametrize("op", ELEMENTWISE_QUANT_OPS)
@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("seed", range(10))
def test_random_scales(op, dtype, seed):
    """Many scale combinations: the multipliers must round exactly as TFLM's."""
    rng = np.random.default_rng(100 + seed)
    q = elementwise_params(dtype, rng, op)
    x, y = _int_inputs(op, (6, 7), (6, 7), dtype, seed)
    assert_parity(_binary(op, (6, 7), (6, 7), dtype, q), [x, y])


@pytest.mark.parametrize(
    "q",
    [
        [(0.05, 3), (0.05, -7), (0.1, 2)],
        [(0.02, 0), (0.1, 0), (0.01, -5)],
        [(0.5, 10), (0.001, 1), (2.0, 0)],
        [(0.01, -3), (0.3, 0), (0.001, 9)],
        [(0.001, -3), (0.3, 0), (0.1, 9)],  # the multiplier differs if rounded to float32
        [(0.2, 100), (0.004, -90), (0.5, -128)],
    ],
)
def test_div_int8_every_pair(q):
    """Every (dividend, divisor) pair of int8 values, zero divisors included."""
    x, y = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    b = _binary("DIV", (256,), (256,), np.int8, q, act=0)
    assert_parity(b, [x.astype(np.int8), y.astype(np.int8)])


@pytest.mark.parametrize("op", ["ADD", "MUL", "SUB", "DIV", "MINIMUM", "MAXIMUM"])
@pytest.mark.parametrize("dtype", [np.int32, np.float32])
def test_constant_scalar_operand(op, dtype):
    """A constant scalar second operand, as in the audio preprocessor (``(1,)`` batch axis)."""
    value = np.array(333 if dtype == np.int32 else 0.37, dtype)
    x = sample((40,), dtype, 3)
    assert_parity(_binary(op, (40,), (), dtype, [(None, None)] * 3, const2=value), [x])


def test_int16_mul_nonzero_zero_point_rejected():
    assert_both_reject(_binary("MUL", (4,), (4,), np.int16, [(0.01, 1), (0.01, 0), (0.01, 0)]))


def test_mixed_types_rejected():
    b = GraphBuilder()
    x = b.input("x", (4,), np.int8, 0.1, 0)
    y = b.input("y", (4,), np.int16, 0.1, 0)
    z = b.tensor("z", (4,), np.int8, 0.1, 0)
    b.op("ADD", [x, y], [z])
    b.output(z)
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(b.build()))


def test_simple_add_model():
    tflm_runtime()
    path = MODELS / "simple_add_model.tflite"
    model = microforge.load(path)
    shape = model.inputs[0].shape
    xs = random_inputs(shape, np.int8, 200, seed=7)
    ys = random_inputs(shape, np.int8, 200, seed=8)
    ours = model.run([xs, ys])[0]
    ref = tflm_run(path, [[a, b] for a, b in zip(xs, ys)])[0]
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("model", ["audio_preprocessor_int8", "audio_preprocessor_float"])
def test_audio_preprocessor_arithmetic_ops(model):
    """Each int32/float arithmetic op of the audio preprocessor, extracted, against TFLM."""
    graph = read_tflite(MODELS / f"{model}.tflite")
    wanted = {"ADD", "MUL", "DIV", "MINIMUM", "MAXIMUM"}
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode in wanted]
    assert indices
    for i in indices:
        one = extract_operator(graph, i)
        t = one.main.tensors[one.main.inputs[0]]
        xs = sample(t.shape, t.dtype, i, scale=1000.0)
        if t.dtype == np.int32:
            xs = xs // 1024
        assert_parity(one, [xs])


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_max_min_int64(op):
    rng = np.random.default_rng(3)
    x = rng.integers(-(2**63), 2**63 - 1, (200, 3, 4), dtype=np.int64, endpoint=True)
    y = rng.integers(-(2**63), 2**63 - 1, (200, 4), dtype=np.int64, endpoint=True)
    assert_parity(_binary(op, (3, 4), (4,), np.int64, [(None, None)] * 3), [x, y])
