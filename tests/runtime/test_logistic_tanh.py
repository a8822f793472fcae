"""LOGISTIC and TANH against tflite-micro: every int8 and every int16 input value (256 / 65536 per
case, spread over >= 200 samples), dense and special float32 inputs, one batch in microforge, one
sample at a time in TFLM, compared bit for bit. Covers several input scales and zero points, the
power-of-two int16 scales, TFLM's output-quantization checks and the LOGISTIC op of
dtln_noise_suppression."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge import fixedpoint as fp
from microforge.errors import UnsupportedOpError
from microforge.frontends.tflite.reader import read_tflite
from microforge.frontends.tflite.writer import write_tflite
from microforge.ir.builder import GraphBuilder, extract_operator
from microforge.runtime.kernels.logistic_tanh import checked_log2
from tests.builders.arrays import random_inputs
from tests.oracle import MODELS, assert_tflm_parity, tflm_run

N = 200




def one_op(opcode, shape, dtype, in_q=(), out_q=()) -> bytes:
    b = GraphBuilder()
    x = b.input("x", shape, dtype, *in_q)
    y = b.tensor("y", shape, dtype, *out_q)
    b.op(opcode, [x], [y])
    b.output(y)
    return write_tflite(b.build())


def every_int8(seed: int) -> np.ndarray:
    """N samples of 256 values: extremes first, then each sample a permutation of all int8 values."""
    x = random_inputs((1, 256), np.int8, N, seed)
    rng = np.random.default_rng(seed)
    for i in range(3, N):
        x[i, 0] = rng.permutation(np.arange(-128, 128, dtype=np.int8))
    return x


def every_int16(seed: int) -> np.ndarray:
    """256 samples of 256 values covering every int16 value once, shuffled."""
    values = np.random.default_rng(seed).permutation(np.arange(-32768, 32768)).astype(np.int16)
    return values.reshape(256, 1, 256)


def float_inputs(seed: int) -> np.ndarray:
    """Dense sweeps over [-20, 20], random bit patterns of every exponent, and special values."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-20, 20, N * 1024, dtype=np.float32).reshape(N, 1, 1024)
    bits = rng.integers(0, 2**32, (N - N // 2, 1, 1024), dtype=np.uint64).astype(np.uint32)
    x[N // 2 :] = bits.view(np.float32)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1e-45, -1e-45, 16.619047, 16.61905,
               -9.0, -9.000001, 22.0, -22.0, 2.0**-55, -(2.0**-26), 0.34657359, 1.0397208]
    x[0, 0, : len(special)] = special
    return x


@pytest.mark.parametrize("scale,zp", [(0.03877529, -2), (0.1, 0), (0.01, 17), (0.5, -128), (0.0012, 90)])
def test_logistic_int8(scale, zp):
    data = one_op("LOGISTIC", (1, 256), np.int8, (scale, zp), (1 / 256, -128))
    assert_tflm_parity(data, every_int8(seed=zp + 200))


@pytest.mark.parametrize("scale,zp,out_q", [(0.03, 0, (1 / 128, 0)), (0.1, -9, (1 / 128, 0)),
                                            (0.008, 40, (0.05, 3)), (0.6, 127, (1 / 128, 0))])
def test_tanh_int8(scale, zp, out_q):
    data = one_op("TANH", (1, 256), np.int8, (scale, zp), out_q)
    assert_tflm_parity(data, every_int8(seed=zp + 300))


INT16_SCALES = [2.0**-12, 2.0**-11, 2.0**-10, 1 / 3000, 0.001, 1e-4, 3.0517578e-05 * 3]


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("scale", INT16_SCALES)
def test_int16(opcode, scale):
    data = one_op(opcode, (1, 256), np.int16, (scale, 0), (2.0**-15, 0))
    assert_tflm_parity(data, every_int16(seed=int(scale * 1e6)))


@pytest.mark.parametrize("opcode", ["LOGISTIC", "TANH"])
def test_float(opcode):
    data = one_op(opcode, (1, 1024), np.float32)
    assert_tflm_parity(data, float_inputs(seed=len(opcode)))


@pytest.mark.parametrize("opcode,dtype,in_q,out_q", [
    ("LOGISTIC", np.int8, (0.1, 0), (1 / 256, 0)),
    ("LOGISTIC", np.int16, (2.0**-12, 0), (2.0**-14, 0)),
    ("TANH", np.int16, (2.0**-12, 0), (2.0**-15, 5)),
    ("TANH", np.int16, (2.0**-12, 3), (2.0**-15, 0)),
])
def test_quantization_checked_like_tflm(opcode, dtype, in_q, out_q):
    data = one_op(opcode, (1, 4), dtype, in_q, out_q)
    with pytest.raises(UnsupportedOpError):
        microforge.load(data)
    with pytest.raises(RuntimeError):
        tflm_run(data, [[np.zeros((1, 4), dtype)]])


def test_gemmlowp_logistic_tanh_golden():
    """Values from gemmlowp's fixedpoint.h at the commit TFLM pins (719139ce), compiled natively."""
    x = np.array([-(2**31), -(1 << 27), -12345, 0, 1, 1 << 27, 5 << 27, 2**31 - 1])
    np.testing.assert_array_equal(fp.logistic_q31(x, 4), [
        241, 577547421, 1073692321, 1073741824, 1073741948, 1569936226, 2133110856, 2147483406])
    np.testing.assert_array_equal(fp.tanh_q31(x, 4), [
        -2147483647, -1635510876, -197756, 0, 260, 1635510876, 2147288656, 2147483647])


def test_checked_log2():
    assert checked_log2(2.0**-12) == (-12, True)
    assert checked_log2(2.0**-15 * 1.0005) == (-15, True)
    assert checked_log2(0.001)[1] is False


def test_dtln_logistic_extracted():
    graph = read_tflite(MODELS / "dtln_noise_suppression.tflite")
    indices = [i for i, op in enumerate(graph.main.operators) if op.opcode == "LOGISTIC"]
    assert indices
    for i in indices:
        t = graph.main.tensors[graph.main.operators[i].inputs[0]]
        data = write_tflite(extract_operator(graph, i))
        assert_tflm_parity(data, random_inputs(t.shape, t.dtype, N, seed=i))
