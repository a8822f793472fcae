"""Oracle tests of RELU, RELU6, LEAKY_RELU and HARD_SWISH against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder
from tests.builders.arrays import sample
from tests.runtime._parity import assert_parity

SHAPE = (2, 5, 3)


def _unary(op, dtype, qin=(None, None), qout=(None, None), **options):
    b = GraphBuilder()
    x = b.input("x", SHAPE, dtype, *qin)
    y = b.tensor("y", SHAPE, dtype, *qout)
    b.op(op, [x], [y], **options)
    b.output(y)
    return b


def _random_quant(dtype, rng, zero=False):
    """(scale, zero point) pairs for input and output; int16 zero points 0 when ``zero``."""
    out = []
    for _ in range(2):
        scale = float(np.float32(10 ** rng.uniform(-2.5, -0.5)))
        if dtype == np.int16:
            scale /= 100
        zp = 0 if zero else int(rng.integers(-40, 40) if dtype == np.int8 else rng.integers(-500, 500))
        out.append((scale, zp))
    return out


@pytest.mark.parametrize("op", ["RELU", "RELU6"])
def test_float(op):
    assert_parity(_unary(op, np.float32), [sample(SHAPE, np.float32, 1, scale=8.0)])


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("seed", range(6))
def test_relu_quantized(dtype, seed):
    rng = np.random.default_rng(seed)
    qin, qout = _random_quant(dtype, rng, zero=dtype == np.int16)
    assert_parity(_unary("RELU", dtype, qin, qout), [sample(SHAPE, dtype, seed)])


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("seed", range(6))
def test_relu6_quantized(dtype, seed):
    rng = np.random.default_rng(10 + seed)
    qin, qout = _random_quant(dtype, rng)
    if seed == 0:  # 6.0 beyond the representable range: q(6) saturates
        qin = (0.001, qin[1])
    assert_parity(_unary("RELU6", dtype, qin, qout), [sample(SHAPE, dtype, seed)])


@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.5, -0.3, 0.0])
def test_leaky_relu_float(alpha):
    assert_parity(_unary("LEAKY_RELU", np.float32, alpha=alpha),
                  [sample(SHAPE, np.float32, 2, scale=4.0)])


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("alpha", [0.2, 0.01, 1.5, -0.3, 0.0])
@pytest.mark.parametrize("seed", range(3))
def test_leaky_relu_quantized(dtype, alpha, seed):
    rng = np.random.default_rng(20 + seed)
    qin, qout = _random_quant(dtype, rng)
    assert_parity(_unary("LEAKY_RELU", dtype, qin, qout, alpha=alpha), [sample(SHAPE, dtype, seed)])


def test_hard_swish_float():
    assert_parity(_unary("HARD_SWISH", np.float32), [sample(SHAPE, np.float32, 3, scale=8.0)])


@pytest.mark.parametrize(
    "qin,qout",
    [
        ((0.05, -10), (0.04, 5)),  # reluish exponent < 0
        ((0.02, 0), (0.03, -128)),
        ((1.0, 3), (2.0, -20)),  # reluish exponent > 0 (large input scale)
        ((0.3, -100), (0.1, 20)),
        ((0.004, 50), (0.001, 0)),  # output exponent 0 region, saturating
        ((0.1, 127), (0.5, -128)),
        # scale pairs whose output multiplier differs when the quotient is rounded to float32
        ((1.3396668434143066, -14), (1.4349335432052612, 0)),
        ((0.0013829695526510477, -9), (0.006380787119269371, -4)),
        ((0.03626706823706627, 11), (0.02467760257422924, -20)),
        ((0.01521286740899086, -46), (0.0032648821361362934, -11)),
        ((0.029717205092310905, 43), (0.011528038419783115, 33)),
    ],
)
def test_hard_swish_int8(qin, qout):
    every = np.tile(np.arange(-128, 128, dtype=np.int8), 30).reshape((256,) + SHAPE)
    assert_parity(_unary("HARD_SWISH", np.int8, qin, qout), [every])


@pytest.mark.parametrize("seed", range(8))
def test_hard_swish_int8_random_scales(seed):
    rng = np.random.default_rng(30 + seed)
    qin, qout = _random_quant(np.int8, rng)
    assert_parity(_unary("HARD_SWISH", np.int8, qin, qout), [sample(SHAPE, np.int8, seed)])


def test_hard_swish_int16_rejected():
    b = _unary("HARD_SWISH", np.int16, (0.001, 0), (0.001, 0))
    with pytest.raises(UnsupportedOpError):
        microforge.load(write_tflite(b.build()))
