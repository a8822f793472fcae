"""Per-NPU-operation tests of the Ethos-U emulator.

Each case is a one-operator model (``tests/builders/npu_ops.py``) that Vela compiles for
ethos-u55-128; its command stream is emulated inside the runtime and compared byte for byte with
microforge's runtime (bit-exact with TFLM) on the same model. Each case also asserts that Vela
emitted the NPU operation it is there to cover (mode, precision, rounding, activation, upscaling,
broadcasting), so a change in Vela's lowering cannot silently leave an operation untested.
Expected values always come from the runtime, never from the test.
"""

from __future__ import annotations

import numpy as np
import pytest

from microforge.backends.ethos_u import VelaConfig, compile_npu
from microforge.runtime.interpreter import Executor
from microforge.runtime.reference import random_inputs_for
from tests.builders import npu_ops as B
from tests.builders.ops import SAME, VALID, conv_model, conv_weights

pytest.importorskip("ethosu.vela", reason="needs Vela: the 'npu' extra (ethos-u-vela)")

I8, I16, I32 = np.int8, np.int16, np.int32
S8, S16, S32 = 1, 5, 9  # IFM precisions
O8, O16, O32 = 1, 3, 5  # OFM precisions
TFL, NATURAL = 0, 2
MUL, ADD, SUB, MIN, MAX, LRELU, CLZ, SHR, SHL = 0, 1, 2, 3, 4, 5, 7, 8, 9
POOL_MAX, POOL_AVG, POOL_SUM = 0, 1, 2
X4 = (1, 4, 5, 6)


def _run(graph, n: int = 24, limit: int | None = None):
    """(emulated outputs, runtime outputs, emitted NPU operations)."""
    npu = compile_npu(graph, VelaConfig("ethos-u55-128"))
    if limit is None:
        xs = random_inputs_for(graph, n, 1)
    else:  # int32 operands whose exact result stays inside int32 (see test_int32_overflow_...)
        rng = np.random.default_rng(1)
        sg = graph.main
        xs = [rng.integers(-limit, limit, (n,) + sg.tensors[t].shape[1:]).astype(sg.tensors[t].dtype)
              for t in sg.inputs]
    got = Executor(npu.optimized, threads=1).run(xs)[0]
    want = Executor(graph, threads=1).run(xs)[0]
    return got, want, B.emitted(npu)


def _assert_bit_exact(got, want) -> None:
    for a, b in zip(got, want):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(np.ascontiguousarray(a).view(np.uint8),
                                      np.ascontiguousarray(b).view(np.uint8))


def _has(ops, **fields) -> bool:
    return any(all(getattr(e, k) == v for k, v in fields.items()) for e in ops)


def _case(graph, *, limit=None, **fields):
    got, want, ops = _run(graph, limit=limit)
    assert _has(ops, **fields), f"Vela did not emit {fields}: {ops}"
    _assert_bit_exact(got, want)


# ---------------------------------------------------------------- pooling
POOLING = {
    "max SAME padded int8": (lambda: B.pool("MAX_POOL_2D", (1, 7, 6, 5), I8, (0.05, 3), (0.05, 3),
                                            (3, 3), (2, 2), SAME), dict(mode=POOL_MAX, padded=True)),
    "max VALID int16": (lambda: B.pool("MAX_POOL_2D", (1, 7, 6, 5), I16, (0.001, 0), (0.001, 0), (2, 2),
                                       (2, 2), VALID), dict(mode=POOL_MAX, ifm=S16)),
    "average SAME padded int8": (lambda: B.pool("AVERAGE_POOL_2D", (1, 7, 6, 5), I8, (0.05, 3), (0.05, 3),
                                                (3, 3), (2, 2), SAME), dict(mode=POOL_AVG, padded=True)),
    "average VALID int8": (lambda: B.pool("AVERAGE_POOL_2D", (1, 7, 6, 5), I8, (0.05, 3), (0.05, 3),
                                          (3, 2), (1, 2), VALID), dict(mode=POOL_AVG, padded=False)),
    "average SAME padded int16": (lambda: B.pool("AVERAGE_POOL_2D", (1, 7, 6, 5), I16, (0.001, 0),
                                                 (0.001, 0), (3, 3), (1, 1), SAME),
                                  dict(mode=POOL_AVG, ifm=S16, padded=True)),
    "average RELU6": (lambda: B.pool("AVERAGE_POOL_2D", (1, 6, 6, 4), I8, (0.05, 3), (0.05, 3), (2, 2),
                                     (2, 2), VALID, act=3), dict(mode=POOL_AVG)),
}


@pytest.mark.parametrize("name", POOLING)
def test_pooling(name):
    build, fields = POOLING[name]
    _case(build(), op="POOL", rounding=NATURAL, **fields)


@pytest.mark.parametrize("axes", [[2], [3]])
def test_sum_over_one_axis(axes):
    """SUM: Vela 5.2 lowers it to a transposing 1x1 pooling and a convolution with unit weights."""
    _case(B.reduce("SUM", (1, 5, 6, 7), axes, I8, (0.05, 3), (0.5, -1)), op="CONV")


def test_mean_is_a_depthwise_sum_and_a_32_bit_mul_into_int8():
    """MEAN: a depthwise sum into an int32 OFM, then a MUL of two 32-bit operands (the sum and
    the multiplier) into int8 with OFM_SCALE (1, shift): only the shift applies."""
    graph = B.reduce("MEAN", (1, 5, 6, 7), [1, 2], I8, (0.05, 3), (0.04, -1))
    got, want, ops = _run(graph)
    assert _has(ops, op="DEPTHWISE", ofm=O32) and _has(ops, op="ELEMENTWISE", mode=MUL, ifm=S32, ofm=O8)
    _assert_bit_exact(got, want)


def test_velas_sum_over_two_axes_reduces_only_the_first():
    """A real Vela 5.2 finding (docs/ethos-u.md): SUM over axes (1, 2) of a (1, 5, 6, 7) tensor
    compiles to a stream that sums over axis 1 only; the model's 7 outputs are the first 7 of that
    (1, 1, 6, 7) sum. TFLM sums over both axes. This pins the emulated behaviour to the
    runtime's SUM over axis 1, so the day Vela lowers it right this test says so."""
    graph = B.reduce("SUM", (1, 5, 6, 7), [1, 2], I8, (0.05, 3), (0.5, -1))
    got, want, _ = _run(graph)
    axis1 = B.reduce("SUM", (1, 5, 6, 7), [1], I8, (0.05, 3), (0.5, -1))
    xs = random_inputs_for(graph, 24, 1)
    first = Executor(axis1, threads=1).run(xs)[0][0].reshape(24, -1)[:, :7]
    np.testing.assert_array_equal(got[0].reshape(24, -1), first)
    assert np.count_nonzero(got[0] != want[0]) > 0


# ---------------------------------------------------------------- elementwise
Q8A, Q8B, Q8O = (0.05, 3), (0.03, -4), (0.08, 1)
Q16A, Q16B, Q16O = (0.001, 0), (0.0007, 0), (0.002, 0)
NQ = (None, None)
ELEMENTWISE = {
    "ADD int8": (lambda: B.binary("ADD", X4, X4, I8, Q8A, Q8B, Q8O), dict(mode=ADD, ifm=S8)),
    "ADD int8 broadcast H,C": (lambda: B.binary("ADD", X4, (1, 1, 5, 1), I8, Q8A, Q8B, Q8O),
                               dict(mode=ADD, broadcast=0x5)),
    "ADD int16 broadcast W": (lambda: B.binary("ADD", X4, (1, 4, 1, 6), I16, Q16A, Q16B, Q16O),
                              dict(mode=ADD, ifm=S16, broadcast=0x2)),
    "ADD int32 broadcast H,W": (lambda: B.binary("ADD", X4, (1, 1, 1, 6), I32, NQ, NQ, NQ),
                                dict(mode=ADD, ifm=S32, broadcast=0x3)),
    "SUB int8 broadcast C": (lambda: B.binary("SUB", X4, (1, 4, 5, 1), I8, Q8A, Q8B, Q8O),
                             dict(mode=SUB, broadcast=0x4)),
    "SUB int16 same scales": (lambda: B.binary("SUB", X4, X4, I16, Q16A, Q16A, Q16O),
                              dict(mode=SUB, ifm=S16)),
    "SUB int32": (lambda: B.binary("SUB", X4, (1, 4, 1, 6), I32, NQ, NQ, NQ), dict(mode=SUB, ifm=S32)),
    "MUL int8": (lambda: B.binary("MUL", X4, X4, I8, Q8A, Q8B, Q8O), dict(mode=MUL, ifm=S8)),
    "MUL int8 reversed broadcast": (lambda: B.binary("MUL", (1, 1, 5, 6), X4, I8, Q8A, Q8B, Q8O),
                                    dict(mode=MUL, broadcast=0x41)),
    "MUL int16 broadcast H,W": (lambda: B.binary("MUL", X4, (1, 1, 1, 6), I16, Q16A, Q16B, (0.0002, 0)),
                                dict(mode=MUL, ifm=S16, broadcast=0x3)),
    "MUL int32": (lambda: B.binary("MUL", X4, X4, I32, NQ, NQ, NQ), dict(mode=MUL, ifm=S32, ofm=O32)),
    "MINIMUM int8": (lambda: B.binary("MINIMUM", X4, X4, I8, Q8A, Q8A, Q8A), dict(mode=MIN)),
    "MAXIMUM int8 broadcast H,W": (lambda: B.binary("MAXIMUM", X4, (1, 1, 1, 6), I8, Q8A, Q8A, Q8A),
                                   dict(mode=MAX, broadcast=0x3)),
    "MAXIMUM int16": (lambda: B.binary("MAXIMUM", X4, X4, I16, Q16A, Q16A, Q16A), dict(mode=MAX, ifm=S16)),
    "LEAKY_RELU int16 alpha 0.2": (lambda: B.unary("LEAKY_RELU", X4, I16, Q16A, Q16A, alpha=0.2),
                                   dict(mode=LRELU, ifm=S16)),
    "LEAKY_RELU int16 alpha 1.5": (lambda: B.unary("LEAKY_RELU", X4, I16, Q16A, Q16A, alpha=1.5),
                                   dict(mode=LRELU, ifm=S16)),
    "LEAKY_RELU int16 rescaled (MUL, MAX)": (
        lambda: B.unary("LEAKY_RELU", X4, I16, Q16A, (0.0008, 0), alpha=0.2), dict(mode=MAX, ifm=S16)),
    "SQUARED_DIFFERENCE int8": (lambda: B.binary("SQUARED_DIFFERENCE", X4, X4, I8, Q8A, Q8B, Q8O),
                                dict(mode=MUL, ifm=S32)),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise(name):
    build, fields = ELEMENTWISE[name]
    graph = build()
    limit = 30000 if graph.main.tensors[graph.main.inputs[0]].dtype == I32 else None
    _case(graph, limit=limit, op="ELEMENTWISE", **fields)


def test_int32_overflow_saturates_on_the_npu_and_wraps_in_tflm():
    """An int32 ADD whose exact sum leaves int32: the emulator saturates (the NPU's output stage
    clamps to the OFM type), TFLM's C addition wraps. Only such inputs differ (docs/ethos-u.md);
    the elementwise tests keep int32 operands in range."""
    graph = B.binary("ADD", X4, X4, I32, NQ, NQ, NQ)
    npu = compile_npu(graph, VelaConfig("ethos-u55-128"))
    big = np.full((2,) + X4[1:], 2**31 - 10, dtype=np.int32)
    got = Executor(npu.optimized, threads=1).run([big, big])[0][0]
    want = Executor(graph, threads=1).run([big, big])[0][0]
    assert np.all(got == 2**31 - 1) and np.all(want == np.int32(-20))


# ---------------------------------------------------------------- look-up tables and activations
LUTS = {
    "LOGISTIC int8 (8-bit table)": (lambda: B.unary("LOGISTIC", X4, I8, Q8A, (1 / 256, -128)),
                                    dict(activation=16, ofm=O8)),
    "TANH int8 (8-bit table)": (lambda: B.unary("TANH", X4, I8, Q8A, (1 / 128, 0)), dict(activation=16)),
    "HARD_SWISH int8 (8-bit table)": (lambda: B.unary("HARD_SWISH", X4, I8, Q8A, (0.03, -10)),
                                      dict(activation=16)),
    "LEAKY_RELU int8 (8-bit table)": (lambda: B.unary("LEAKY_RELU", X4, I8, Q8A, (0.03, -10), alpha=0.2),
                                      dict(activation=16)),
    "LOGISTIC int16 (SIGMOID)": (lambda: B.unary("LOGISTIC", X4, I16, (1 / 4096, 0), (1 / 32768, 0)),
                                 dict(activation=4, ofm=O16)),
    "TANH int16 (TANH)": (lambda: B.unary("TANH", X4, I16, (0.0003, 0), (1 / 32768, 0)),
                          dict(activation=3, ofm=O16)),
    "TANH int16 power-of-two scale (TANH)": (lambda: B.unary("TANH", X4, I16, (1 / 2048, 0), (1 / 32768, 0)),
                                             dict(activation=3, ofm=O16)),
}


@pytest.mark.parametrize("name", LUTS)
def test_activation_tables_and_functions(name):
    build, fields = LUTS[name]
    _case(build(), **fields)


def test_int8_softmax_exp_table_clz_shl_shr_and_32_bit_arithmetic():
    """int8 SOFTMAX: the 32-bit exp table (clip range 3), REDUCE_SUM pooling, CLZ, SHL, SHR with
    natural rounding and the 32-bit MUL/ADD/SUB Newton-Raphson steps."""
    got, want, ops = _run(B.softmax((1, 3, 10), I8))
    for mode in (CLZ, SHL, SHR, MUL, ADD, SUB):
        assert _has(ops, op="ELEMENTWISE", mode=mode, ifm=S32), mode
    assert _has(ops, op="ELEMENTWISE", mode=SHR, rounding=NATURAL)
    assert _has(ops, op="POOL", mode=POOL_SUM) and _has(ops, activation=16, ofm=O32)
    _assert_bit_exact(got, want)


def test_int16_softmax_16_bit_tables():
    """int16 SOFTMAX: the 16-bit (interpolating, 512-entry) exp and 1/(1+x) tables, a 32-bit MUL
    with OFM_SCALE (multiplier, 28) whose multiplier is not applied, CLZ, SHL, SHR."""
    got, want, ops = _run(B.softmax((1, 3, 10), I16))
    assert sum(e.activation == 16 and e.ofm == O16 for e in ops) == 2
    assert _has(ops, mode=POOL_SUM, op="POOL") and _has(ops, op="ELEMENTWISE", mode=CLZ)
    _assert_bit_exact(got, want)


# ---------------------------------------------------------------- rescaling, upscaling, int16
OTHERS = {
    "QUANTIZE int8 -> int8 (1x1 average pool)": (
        lambda: B.unary("QUANTIZE", X4, I8, Q8A, (0.03, -7)), dict(op="POOL", rounding=TFL)),
    "QUANTIZE int16 -> int8": (lambda: B.unary("QUANTIZE", X4, I16, Q16A, (0.03, -7), out_dtype=I8),
                               dict(op="POOL", ifm=S16, ofm=O8)),
    "QUANTIZE int8 -> int16": (lambda: B.unary("QUANTIZE", X4, I8, Q8A, Q16A, out_dtype=I16),
                               dict(op="POOL", ifm=S8, ofm=O16)),
    "RESIZE_NEAREST_NEIGHBOR x2 (nearest upscaling)": (
        lambda: B.resize("RESIZE_NEAREST_NEIGHBOR", (1, 4, 5, 3), (8, 10), I8, Q8A), dict(upscale=1)),
    "RELU6 int8": (lambda: B.unary("RELU6", X4, I8, Q8A, Q8A), dict(op="POOL")),
}


@pytest.mark.parametrize("name", OTHERS)
def test_rescaling_and_upscaling(name):
    build, fields = OTHERS[name]
    _case(build(), **fields)


def test_int16_depthwise_rounds_naturally():
    """16x8 DEPTHWISE_CONV_2D: Vela sets the NATURAL rounding mode for 16-bit convolutions."""
    w = conv_weights("DEPTHWISE_CONV_2D", (3, 3), 4, 4, 17)
    options = {"padding": SAME, "stride_h": 2, "stride_w": 1, "fused_activation_function": 0}
    graph = conv_model("DEPTHWISE_CONV_2D", I16, (1, 6, 7, 4), w, options, seed=4).build()
    _case(graph, op="DEPTHWISE", ifm=S16, rounding=NATURAL)


def test_relu6_with_another_output_quantization_is_requantized_by_vela_not_by_tflm():
    """A Vela-vs-TFLM difference (docs/ethos-u.md): TFLM's int8 RELU6 clamps in the input's
    quantization and never rescales, whatever the output's; Vela rescales to the output's. The
    TFLite converter gives RELU6 equal quantizations, where the two agree (test above)."""
    got, want, _ = _run(B.unary("RELU6", X4, I8, (0.05, 3), (0.03, -100)))
    assert np.count_nonzero(got[0] != want[0]) > 0
