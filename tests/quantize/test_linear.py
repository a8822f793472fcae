"""The linear view of weighted layers: im2col patches with TFLM's padding, strides, dilation and
depthwise channel order reproduce the runtime's float output exactly (to float rounding)."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.quantize.linear import linear_layer, weight_rows, weights_from_rows
from tests.builders.quant_graphs import single_layer


@pytest.mark.parametrize("opcode, options", [
    ("CONV_2D", {}), ("CONV_2D", {"stride": 2}), ("CONV_2D", {"padding": 1, "dilation": 2}),
    ("DEPTHWISE_CONV_2D", {}), ("DEPTHWISE_CONV_2D", {"multiplier": 2, "stride": 2}),
    ("FULLY_CONNECTED", {}),
])
def test_patches_times_weights_equal_the_runtime(opcode, options):
    graph = single_layer(opcode, **options)
    model = microforge.Model(graph)
    shape = tuple(model.inputs[0].shape)
    x = np.random.default_rng(1).normal(size=(3,) + shape).astype(np.float32)
    expected = model.run(x)[0].reshape(-1, model.outputs[0].shape[-1])
    layer = linear_layer(0, graph.main, x, rows=10**6)
    got = layer.apply(layer.patches.astype(np.float64), layer.weights) + layer.bias
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert layer.mean.shape == layer.weights.shape
    signal = layer.signal_power()
    np.testing.assert_allclose(signal, (expected.astype(np.float64) ** 2).mean(axis=0), rtol=1e-3)


@pytest.mark.parametrize("opcode, shape", [("CONV_2D", (4, 3, 3, 2)),
                                           ("DEPTHWISE_CONV_2D", (1, 3, 3, 6)),
                                           ("FULLY_CONNECTED", (5, 7))])
def test_weight_rows_round_trip(opcode, shape):
    w = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    rows = weight_rows(opcode, w)
    assert rows.shape[0] == shape[3 if opcode == "DEPTHWISE_CONV_2D" else 0]
    np.testing.assert_array_equal(weights_from_rows(opcode, rows, shape), w)
