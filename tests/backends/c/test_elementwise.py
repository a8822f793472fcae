"""Generated C for ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE against the Python
runtime (checked against TFLM in tests/runtime/test_elementwise.py).

Several independent operators share one graph (one C build) where they can. Inputs are 200
seeded samples from ``tests.runtime._parity.sample``: integers over the whole range (extremes
first, so int32 DIV sees zero divisors and INT32_MIN / -1), floats with +-0, +-inf, NaN and huge
values in the first sample."""

from __future__ import annotations

import itertools
import zlib

import numpy as np
import pytest

from microforge.backends.c.compiler import compile_model
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from tests.builders.arrays import sample
from tests.builders.c import as_builder, check, check_inputs, merge, sample_inputs
from tests.builders.ops import (
    ELEMENTWISE_FUSED,
    ELEMENTWISE_QUANT_OPS,
    ELEMENTWISE_SHAPES,
    elementwise_params,
)
from tests.oracle import MODELS

DTYPES = [np.int8, np.int16, np.int32, np.float32]
INT8_DIV_QUANT = [  # the scale combinations of the runtime's every-pair DIV test
    [(0.05, 3), (0.05, -7), (0.1, 2)],
    [(0.02, 0), (0.1, 0), (0.01, -5)],
    [(0.5, 10), (0.001, 1), (2.0, 0)],
    [(0.01, -3), (0.3, 0), (0.001, 9)],
    [(0.001, -3), (0.3, 0), (0.1, 9)],
    [(0.2, 100), (0.004, -90), (0.5, -128)],
]


def _combos(ops):
    """(op, dtype) pairs with a C kernel (no int16 DIV, as TFLM)."""
    return [(op, d) for op in ops for d in DTYPES if op != "DIV" or d != np.int16]


def _ids(v):
    return np.dtype(v).name if isinstance(v, type) else str(v)


class Binaries:
    """One graph holding independent binary operators, each with its own inputs and output."""

    def __init__(self) -> None:
        self.b = GraphBuilder()
        self.inputs: list[np.ndarray] = []

    def add(self, op, s1, s2, dtype, q, act=None, x=None, y=None, const1=None, const2=None):
        b, k = self.b, len(self.b.operators)
        seed = zlib.crc32(repr((op, s1, s2, k)).encode()) % 1000
        if const1 is not None:
            xi = b.const(f"x{k}", const1, dtype, *q[0])
        else:
            xi = b.input(f"x{k}", s1, dtype, *q[0])
            self.inputs.append(sample(s1, dtype, seed) if x is None else x)
        if const2 is not None:
            yi = b.const(f"y{k}", const2, dtype, *q[1])
        else:
            yi = b.input(f"y{k}", s2, dtype, *q[1])
            self.inputs.append(sample(s2, dtype, seed + 1) if y is None else y)
        shape = np.broadcast_shapes(np.shape(const1) if const1 is not None else s1,
                                    np.shape(const2) if const2 is not None else s2)
        z = b.tensor(f"z{k}", shape, dtype, *q[2])
        b.op(op, [xi, yi], [z], **({"fused_activation_function": act} if act is not None else {}))
        b.output(z)
        return self

    def check(self, out, sanitize=False):
        check_inputs(self.b.build(), out, self.inputs, sanitize=sanitize)


@pytest.mark.parametrize("op,dtype", _combos(ELEMENTWISE_QUANT_OPS + ["DIV"]), ids=_ids)
def test_broadcast_shapes(op, dtype, tmp_path):
    """Same shape, inner / outer / scalar broadcasting, rank mismatch both ways, 5-D."""
    g = Binaries()
    for k, (s1, s2) in enumerate(ELEMENTWISE_SHAPES):
        q = elementwise_params(dtype, np.random.default_rng(k), op)
        g.add(op, s1, s2, dtype, q, act=1 if op in ELEMENTWISE_FUSED else None)
    g.check(tmp_path)


@pytest.mark.parametrize("op,dtype", _combos(sorted(ELEMENTWISE_FUSED)), ids=_ids)
def test_fused_activations(op, dtype, tmp_path):
    g = Binaries()
    for act in (0, 1, 2, 3):
        q = elementwise_params(dtype, np.random.default_rng(act), op)
        x, y = sample((3, 8), dtype, 10 + act), sample((1, 8), dtype, 20 + act)
        if dtype == np.float32:  # spread over the clamp bounds of every activation
            with np.errstate(over="ignore", invalid="ignore"):
                x, y = x * np.float32(8), y * np.float32(8)
        elif dtype == np.int32:  # small values, so that RELU6 / RELU_N1_TO_1 clamp visibly
            x, y = x % 17 - 8, (y % 4 - 2).astype(np.int32)
        g.add(op, (3, 8), (1, 8), dtype, q, act=act, x=x, y=y)
    g.check(tmp_path)


@pytest.mark.parametrize("op", ELEMENTWISE_QUANT_OPS)
@pytest.mark.parametrize("dtype", [np.int8, np.int16], ids=_ids)
def test_random_scales(op, dtype, tmp_path):
    """Ten scale / zero-point combinations per operator (int16 ADD/SUB with zero points)."""
    g = Binaries()
    for seed in range(10):
        g.add(op, (6, 7), (6, 7), dtype, elementwise_params(dtype, np.random.default_rng(100 + seed), op))
    g.check(tmp_path)


def test_int8_add_sub_rescale_tables(tmp_path):
    """Large int8 ADD / SUB (rescale tables), broadcast both ways, each activation."""
    g = Binaries()
    for k, (op, act) in enumerate(itertools.product(["ADD", "SUB"], [0, 1, 2, 3])):
        q = elementwise_params(np.int8, np.random.default_rng(200 + k), op)
        shapes = ((16, 32), (32,)) if k % 2 else ((1, 32), (12, 1, 32))
        g.add(op, *shapes, np.int8, q, act=act)
    g.check(tmp_path)


@pytest.mark.parametrize("q", INT8_DIV_QUANT, ids=range(len(INT8_DIV_QUANT)))
def test_int8_div_every_pair(q, tmp_path):
    """Every (dividend, divisor) pair of int8 values, zero divisors included."""
    x, y = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    g = Binaries().add("DIV", (256,), (256,), np.int8, q, act=0, x=x.astype(np.int8),
                       y=y.astype(np.int8))
    g.check(tmp_path)


@pytest.mark.parametrize("dtype", [np.int32, np.float32], ids=_ids)
def test_constant_scalar_operand(dtype, tmp_path):
    g = Binaries()
    for op in ("ADD", "MUL", "SUB", "DIV", "MINIMUM", "MAXIMUM"):
        value = np.array(333 if dtype == np.int32 else 0.37, dtype)
        g.add(op, (40,), (), dtype, [(None, None)] * 3, const2=value)
        g.add(op, (), (40,), dtype, [(None, None)] * 3, const1=value)
    g.check(tmp_path)


def test_int32_scalar_operand_loops(tmp_path):
    """The int32 kernels' straight loops for a tensor against one scalar (input or constant):
    with and without the activation clamp, divisors 0, -1 and 1, extreme dividends, a length
    that is not a multiple of the vector width."""
    g = Binaries()
    x = sample((37,), np.int32, 5)
    x[:, :4] = [np.iinfo(np.int32).min, np.iinfo(np.int32).max, 0, -1]
    for k, op in enumerate(("ADD", "SUB", "MUL", "DIV")):
        for act in (None, 1, 2):
            g.add(op, (37,), (), np.int32, [(None, None)] * 3, act=act, x=x)
            g.add(op, (37,), (1,), np.int32, [(None, None)] * 3, act=act, x=x,
                  const2=np.array([-7 + 5 * k], np.int32))
    for value in (0, -1, 1, np.iinfo(np.int32).min):
        for act in (None, 3):
            g.add("DIV", (37,), (), np.int32, [(None, None)] * 3, act=act, x=x,
                  const2=np.array(value, np.int32))
    for op in ("MAXIMUM", "MINIMUM"):
        g.add(op, (37,), (), np.int32, [(None, None)] * 3, x=x)
    g.check(tmp_path)


def test_int8_constant_operands(tmp_path):
    """One-element int8 constants (lookup tables, int8 DIV included) on either side, and a
    broadcast constant vector (the arithmetic path)."""
    q = [(0.05, 3), (0.02, -7), (0.1, 2)]
    g = Binaries()
    for op in ELEMENTWISE_QUANT_OPS + ["DIV"]:
        g.add(op, (5, 8), (1, 1), np.int8, q, const2=np.full((1, 1), -77, np.int8))
        g.add(op, (), (5, 8), np.int8, q, const1=np.array(45, np.int8))
    g.add("ADD", (5, 8), (8,), np.int8, q, const2=np.arange(-64, 64, 16).astype(np.int8))
    g.check(tmp_path)


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_max_min_int64(op, tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(-(2**63), 2**63 - 1, (200, 3, 4), dtype=np.int64, endpoint=True)
    y = rng.integers(-(2**63), 2**63 - 1, (200, 4), dtype=np.int64, endpoint=True)
    Binaries().add(op, (3, 4), (4,), np.int64, [(None, None)] * 3, x=x, y=y).check(tmp_path)


def test_in_place_chain(tmp_path):
    """ADD, MUL on its result, MAXIMUM on that: the MUL runs in place over the ADD's output."""
    b = GraphBuilder()
    x = b.input("x", (4, 6), np.int8, 0.05, 1)
    y = b.input("y", (4, 6), np.int8, 0.05, -2)
    w = b.input("w", (6,), np.int8, 0.02, 0)
    t = b.tensor("t", (4, 6), np.int8, 0.1, 0)
    u = b.tensor("u", (4, 6), np.int8, 0.05, 4)
    z = b.tensor("z", (4, 6), np.int8, 0.05, 4)
    b.op("ADD", [x, y], [t], fused_activation_function=0)
    b.op("MUL", [t, w], [u], fused_activation_function=1)
    b.op("MAXIMUM", [u, y], [z])
    b.output(z)
    graph = b.build()
    compiled = compile_model(graph, tmp_path / "lib", name="m")
    assert compiled.op_rows[1]["in_place"]
    check(graph, tmp_path / "verify")


def test_simple_add_model(tmp_path):
    graph = read_tflite(MODELS / "simple_add_model.tflite")
    check(graph, tmp_path / "plain")
    check(graph, tmp_path / "sanitized", n=50, sanitize=True)


def test_audio_preprocessor_arithmetic_ops(tmp_path):
    """The int32 ADD / MUL / DIV / MINIMUM / MAXIMUM with constant scalars, extracted."""
    graph = read_tflite(MODELS / "audio_preprocessor_int8.tflite")
    wanted = {"ADD", "MUL", "DIV", "MINIMUM", "MAXIMUM"}
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode in wanted]
    assert len(indices) == 6
    merged = merge([as_builder(extract_operator(graph, i)) for i in indices]).build()
    check_inputs(merged, tmp_path, sample_inputs(merged))


def test_sanitized(tmp_path):
    g = Binaries()
    g.add("DIV", (3, 4), (4,), np.int32, [(None, None)] * 3, act=0)
    g.add("MUL", (3, 4), (3, 1), np.int32, [(None, None)] * 3, act=0)
    g.add("ADD", (2, 1, 3), (4, 1), np.int8, [(0.05, 3), (0.02, -7), (0.1, 2)], act=0)
    g.add("SUB", (5,), (5,), np.int16, [(0.001, 300), (0.002, -300), (0.003, 0)], act=0)
    g.add("SQUARED_DIFFERENCE", (3, 4), (4,), np.int16, [(0.001, 0), (0.002, 0), (0.003, 0)])
    g.add("DIV", (3, 4), (), np.float32, [(None, None)] * 3, act=3)
    g.add("DIV", (3, 4), (4,), np.int8, [(0.2, 100), (0.004, -90), (0.5, -128)], act=0)
    g.check(tmp_path, sanitize=True)


def test_too_many_broadcast_dims_refused(tmp_path):
    b = GraphBuilder()
    x = b.input("x", (2, 1, 2, 1, 2, 1, 2), np.float32)
    y = b.input("y", (1, 2, 1, 2, 1, 2, 1), np.float32)
    z = b.tensor("z", (2,) * 7, np.float32)
    b.op("MAXIMUM", [x, y], [z])
    b.output(z)
    with pytest.raises(UnsupportedOpError, match="collapsed"):
        compile_model(b.build(), tmp_path, name="m")
