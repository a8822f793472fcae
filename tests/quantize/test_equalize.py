"""Activation equalization between weighted layers: the float model computes the same outputs,
channels with small ranges are scaled up (depthwise consumers absorb any factor exactly, dense
ones get the factor the noise model prefers), and the quantized model still runs bit-exactly in
tflite-micro."""

from __future__ import annotations

import numpy as np

import microforge
from microforge.ir.builder import GraphBuilder
from microforge.passes import prepare
from microforge.quantize.equalize import CAPS, equalize
from microforge.runtime.interpreter import Executor
from tests.builders.quant_graphs import conv_options
from tests.oracle import tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules

F32 = np.float32


def _unbalanced(seed: int = 0):
    """x [1, 6, 6, 4] -> CONV_2D (RELU, output channels of very different magnitude) ->
    DEPTHWISE_CONV_2D (RELU) -> CONV_2D 1x1 -> FULLY_CONNECTED (RELU) -> FULLY_CONNECTED."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    x = b.input("x", (1, 6, 6, 4), F32)
    spread = np.array([1.0, 0.05, 0.3, 0.02, 0.6, 0.1, 1.0, 0.01], F32)
    w1 = (rng.normal(size=(8, 3, 3, 4)) * spread[:, None, None, None]).astype(F32)
    c1 = b.tensor("c1", (1, 6, 6, 8), F32)
    b.op("CONV_2D", [x, b.const("w1", w1), b.const("b1", (0.1 * spread).astype(F32))], [c1],
         fused_activation_function=1, **conv_options())
    dw = b.tensor("dw", (1, 6, 6, 8), F32)
    w2 = (rng.normal(size=(1, 3, 3, 8)) * spread[::-1]).astype(F32)
    b.op("DEPTHWISE_CONV_2D", [c1, b.const("w2", w2), b.const("b2", np.zeros(8, F32))], [dw],
         fused_activation_function=1, **conv_options(depth_multiplier=1))
    pw = b.tensor("pw", (1, 6, 6, 4), F32)
    b.op("CONV_2D", [dw, b.const("w3", rng.normal(size=(4, 1, 1, 8)).astype(F32)),
                     b.const("b3", np.zeros(4, F32))], [pw],
         fused_activation_function=0, **conv_options())
    flat = b.tensor("flat", (1, 144), F32)
    b.op("RESHAPE", [pw, b.const("shape", np.array([1, 144], np.int32))], [flat])
    h = b.tensor("h", (1, 16), F32)
    w4 = (rng.normal(size=(16, 144)) * np.linspace(0.01, 1, 16)[:, None] / 10).astype(F32)
    b.op("FULLY_CONNECTED", [flat, b.const("w4", w4), b.const("b4", np.zeros(16, F32))], [h],
         fused_activation_function=1)
    out = b.tensor("out", (1, 5), F32)
    b.op("FULLY_CONNECTED", [h, b.const("w5", rng.normal(size=(5, 16)).astype(F32)),
                             b.const("b5", np.zeros(5, F32))], [out], fused_activation_function=0)
    b.output(out)
    return b.build()


def _data(n: int = 128) -> np.ndarray:
    return np.random.default_rng(1).normal(size=(n, 1, 6, 6, 4)).astype(F32)


def test_equalization_keeps_the_float_outputs_and_balances_channels():
    graph = prepare(_unbalanced())
    sg = graph.main
    x = _data()
    before, values = Executor(graph, exact_float=False).run([x], keep_intermediates=True)
    c1 = next(op.outputs[0] for op in sg.operators if op.opcode == "CONV_2D")
    spread_before = np.abs(values[c1]).reshape(-1, 8).max(axis=0)
    assert equalize(graph, [x]) >= 1
    after, values = Executor(graph, exact_float=False).run([x], keep_intermediates=True)
    np.testing.assert_allclose(after[0], before[0], rtol=1e-4, atol=1e-4)
    spread_after = np.abs(values[c1]).reshape(-1, 8).max(axis=0)
    assert spread_after.min() / spread_after.max() > spread_before.min() / spread_before.max()
    factors = spread_after / spread_before
    assert factors.min() > 0.999 and factors.max() <= max(CAPS) * 1.001  # only scaled up, capped


def test_equalized_model_matches_tflm():
    tflm_runtime()
    model = microforge.quantize(_unbalanced(), _data())
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model) == 200
    assert model.report(_data(64)).outputs[0].sqnr_db > 25
