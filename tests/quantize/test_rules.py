"""Operator rules on small built graphs: every quantizable operator family, constants as operands,
a fixed-parameter tensor joining a concatenation (requantized), int16 activations; each result
checked against the TFLM rules and run bit-exact against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.ir.builder import GraphBuilder
from tests.oracle import tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules

F32 = np.float32
I32 = np.int32


def _zoo(int8_only: bool = True):
    """x (1,6,6,4) through PAD, MEAN, MUL/SUB with constants, MAXIMUM with a constant, TANH,
    LEAKY_RELU, CONCATENATION (TANH's fixed output + a free tensor), TRANSPOSE, STRIDED_SLICE,
    [HARD_SWISH], SQUARED_DIFFERENCE, REDUCE_MAX (MEAN), RESHAPE, LOGISTIC; SUM, RELU6, [DIV],
    SOFTMAX. The bracketed operators (TFLM has no int16 kernel for them) only when ``int8_only``."""
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input("x", (1, 6, 6, 4), F32)

    def t(name, shape):
        return b.tensor(name, shape, F32)

    def ints(name, values):
        return b.const(name, np.array(values, I32))

    padded = t("padded", (1, 8, 8, 4))
    b.op("PAD", [x, ints("pads", [[0, 0], [1, 1], [1, 1], [0, 0]])], [padded])
    mean = t("mean", (1, 1, 1, 4))
    b.op("MEAN", [padded, ints("hw", [1, 2])], [mean], keep_dims=True)
    scaled = t("scaled", (1, 6, 6, 4))
    b.op("MUL", [x, b.const("gain", rng.uniform(0.5, 2, 4).astype(F32))], [scaled],
         fused_activation_function=0)
    centred = t("centred", (1, 6, 6, 4))
    b.op("SUB", [scaled, mean], [centred], fused_activation_function=0)
    floor = t("floor", (1, 6, 6, 4))
    b.op("MAXIMUM", [centred, b.const("low", np.array([-0.5], F32))], [floor])
    tanh = t("tanh", (1, 6, 6, 4))
    b.op("TANH", [floor], [tanh])
    leaky = t("leaky", (1, 6, 6, 4))
    b.op("LEAKY_RELU", [centred], [leaky], alpha=0.2)
    joined = t("joined", (1, 6, 6, 8))
    b.op("CONCATENATION", [tanh, leaky], [joined], axis=3, fused_activation_function=0)
    swapped = t("swapped", (1, 6, 6, 8))
    b.op("TRANSPOSE", [joined, ints("perm", [0, 2, 1, 3])], [swapped])
    sliced = t("sliced", (1, 3, 3, 8))
    b.op("STRIDED_SLICE", [swapped, ints("begin", [0, 0, 0, 0]), ints("end", [1, 6, 6, 8]),
                           ints("strides", [1, 2, 2, 1])], [sliced],
         begin_mask=0, end_mask=0, ellipsis_mask=0, new_axis_mask=0, shrink_axis_mask=0,
         offset=False)
    other = sliced
    if int8_only:
        other = t("swish", (1, 3, 3, 8))
        b.op("HARD_SWISH", [sliced], [other])
    diff = t("diff", (1, 3, 3, 8))
    b.op("SQUARED_DIFFERENCE", [other, sliced], [diff])
    peak = t("peak", (1, 3, 3))
    b.op("REDUCE_MAX" if int8_only else "MEAN", [diff, ints("c", [3])], [peak], keep_dims=False)
    flat = t("flat", (1, 9))
    b.op("RESHAPE", [peak, ints("shape", [1, 9])], [flat], new_shape=[1, 9])
    score = t("score", (1, 9))
    b.op("LOGISTIC", [flat], [score])
    total = t("total", (1, 8))
    b.op("SUM", [sliced, ints("hw2", [1, 2])], [total], keep_dims=False)
    clipped = t("clipped", (1, 8))
    b.op("RELU6", [total], [clipped])
    logits = clipped
    if int8_only:
        logits = t("halved", (1, 8))
        b.op("DIV", [clipped, b.const("two", np.array([2.0], F32))], [logits],
             fused_activation_function=0)
    probs = t("probs", (1, 8))
    b.op("SOFTMAX", [logits], [probs], beta=1.0)
    b.output(score, probs)
    return b.build()


def _data(n=256, seed=0):
    return np.random.default_rng(seed).normal(0, 1.5, (n, 1, 6, 6, 4)).astype(F32)


@pytest.mark.parametrize("io", ["int8", "float"])
def test_every_operator_family_int8(io):
    tflm_runtime()
    model = microforge.quantize(_zoo(), _data(), io=io)
    assert not model.kept_float
    assert_tflm_rules(model.graph)
    ops = [op.opcode for op in model.graph.main.operators]
    assert ops.count("QUANTIZE") == 1 + (io == "float")  # TANH's output requantized for the concat
    assert assert_tflm_parity(model) == 200
    report = model.report(_data(64, seed=1))
    assert min(o.sqnr_db for o in report.outputs) > 20


def test_every_operator_family_int16():
    tflm_runtime()
    model = microforge.quantize(_zoo(int8_only=False), _data(), int16_activations=True)
    assert_tflm_rules(model.graph, int16=True)
    assert model.inputs[0].dtype == np.int16
    assert assert_tflm_parity(model) == 200
    assert min(o.sqnr_db for o in model.report().outputs) > 25


def test_ops_without_int16_kernels_need_allow_float():
    with pytest.raises(microforge.UnsupportedOpError) as error:
        microforge.quantize(_zoo(), _data(), int16_activations=True)
    for name in ("HARD_SWISH", "DIV", "REDUCE_MAX", "--allow-float"):
        assert name in str(error.value)
    model = microforge.quantize(_zoo(), _data(), int16_activations=True, allow_float=True)
    assert {k.split()[0] for k in model.kept_float} == {"HARD_SWISH", "DIV", "REDUCE_MAX"}
    assert_tflm_parity(model)


def test_concatenation_of_fixed_outputs_keeps_their_parameters():
    """Two LOGISTIC outputs concatenated: no requantization, the output inherits 1/256, -128."""
    b = GraphBuilder()
    x = b.input("x", (1, 4), F32)
    a, c = b.tensor("a", (1, 4), F32), b.tensor("c", (1, 4), F32)
    b.op("LOGISTIC", [x], [a])
    y = b.tensor("y", (1, 4), F32)
    b.op("MUL", [x, x], [y], fused_activation_function=0)
    b.op("LOGISTIC", [y], [c])
    out = b.tensor("out", (1, 8), F32)
    b.op("CONCATENATION", [a, c], [out], axis=1, fused_activation_function=0)
    b.output(out)
    model = microforge.quantize(b.build(), np.random.default_rng(0).normal(size=(64, 1, 4)))
    ops = [op.opcode for op in model.graph.main.operators]
    assert "QUANTIZE" not in ops
    assert model.outputs[0].scale == np.float32(1 / 256) and model.outputs[0].zero_point == -128
    assert_tflm_rules(model.graph)
