"""Generated C for QUANTIZE / DEQUANTIZE against the Python runtime (checked against TFLM in
tests/runtime/test_quantize.py): every requantize pair with a non-int8 input, float32 affine
quantization (values beyond the output range and beyond int32, NaN, infinities, halves), int16 /
uint8 dequantization, the int8 lookup-table path, and sanitizer builds."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.ir.builder import GraphBuilder
from tests.builders.c import check, check_inputs

SHAPE = (2, 3, 7)


def one_op(opcode: str, src, dst, q_in=(None, None), q_out=(None, None), shape=SHAPE):
    b = GraphBuilder()
    x = b.input("x", shape, src, *q_in)
    y = b.tensor("y", shape, dst, *q_out)
    b.op(opcode, [x], [y])
    b.output(y)
    return b.build()


REQUANTIZE = [
    (np.int16, np.int8, (0.01, 0), (0.3, -7)),
    (np.int16, np.int8, (0.5, 0), (0.003, 12)),
    (np.int16, np.int16, (0.001, 0), (0.0007, 0)),
    (np.int16, np.int16, (0.002, 0), (0.5, 0)),
    (np.int16, np.int32, (1 / 32768, 0), (1 / 2**31, 0)),
    (np.int16, np.int32, (0.25, 0), (0.25, 5)),
    (np.int32, np.int8, (1e-6, 3), (0.05, -2)),
    (np.int32, np.int8, (2.0, -9), (0.5, 0)),
    (np.int32, np.int16, (1e-5, 0), (0.01, 0)),
    (np.uint8, np.int8, (0.02, 128), (0.02, 0)),
    (np.uint8, np.int8, (0.02, 100), (0.07, -3)),
]


@pytest.mark.parametrize("src,dst,q_in,q_out", REQUANTIZE)
def test_requantize(src, dst, q_in, q_out, tmp_path):
    check(one_op("QUANTIZE", src, dst, q_in, q_out), tmp_path)


@pytest.mark.parametrize("dst", [np.int8, np.int16])
@pytest.mark.parametrize("scale,zp", [(0.01, 3), (0.0001, -20), (1e-12, 0), (0.3, 0)])
def test_affine_quantize_random(dst, scale, zp, tmp_path):
    """uniform(-1, 1) inputs; tiny scales push the quotient past the output range and int32."""
    check(one_op("QUANTIZE", np.float32, dst, q_out=(scale, zp)), tmp_path)


@pytest.mark.parametrize("dst", [np.int8, np.int16])
def test_affine_quantize_specials(dst, tmp_path):
    f = np.float32
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.25, -0.25, 0.75, -0.75, 1e30, -1e30,
                        2.5e-40, 214.7483648, -214.7483648, 127.5, -128.5, 3.4e38, -3.4e38],
                       dtype=f)
    rng = np.random.default_rng(3)
    values = np.concatenate([special, rng.normal(0, 2, 6 * 42 - special.size).astype(f)])
    graph = one_op("QUANTIZE", np.float32, dst, q_out=(0.01 if dst == np.int8 else 1e-8, 1))
    check_inputs(graph, tmp_path, [values.reshape((6,) + SHAPE)])


@pytest.mark.parametrize("src,q_in", [(np.int16, (0.0001, 0)), (np.int16, (3.7, -300)),
                                      (np.uint8, (0.05, 128)), (np.uint8, (1e-3, 7))])
def test_dequantize(src, q_in, tmp_path):
    check(one_op("DEQUANTIZE", src, np.float32, q_in=q_in), tmp_path)


@pytest.mark.parametrize("opcode,dst,q_out", [("QUANTIZE", np.int16, (0.001, 0)),
                                              ("DEQUANTIZE", np.float32, (None, None))])
def test_int8_inputs_use_the_table(opcode, dst, q_out, tmp_path):
    check(one_op(opcode, np.int8, dst, (0.05, -4), q_out), tmp_path)


def test_sanitized(tmp_path):
    check(one_op("QUANTIZE", np.int32, np.int8, (2.0, -9), (0.5, 0)), tmp_path / "a", 50, True)
    check(one_op("QUANTIZE", np.int16, np.int16, (0.002, 0), (0.5, 0)), tmp_path / "b", 50, True)
    check(one_op("QUANTIZE", np.float32, np.int8, q_out=(1e-12, 0)), tmp_path / "c", 50, True)
    check(one_op("DEQUANTIZE", np.int16, np.float32, q_in=(3.7, -300)), tmp_path / "d", 50, True)
