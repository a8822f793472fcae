"""Bias correction and learned (AdaRound-style) rounding: they lower the weight-rounding error
they target on the calibration data, leave scales and the TFLM rules alone, and the models still
run bit-exactly in tflite-micro."""

from __future__ import annotations

import numpy as np

import microforge
from microforge.quantize.linear import linear_layer
from microforge.quantize.report import quantize_input
from microforge.quantize.tuning import learned_rounding
from tests.builders.quant_graphs import chain, single_layer, skewed_inputs
from tests.oracle import tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules


def _mean_error(model, x):
    """Mean |per-channel mean error| of the depthwise output (tensor "dw") against the float
    model: the shift bias correction removes."""
    float_model = microforge.Model(model.float_graph)
    _, fvals = float_model.run(x, intermediates=True)
    qx = quantize_input(x, model.graph.main.tensors[model.graph.main.inputs[0]])
    _, qvals = model.run(qx, intermediates=True)
    tensor = next(t for t in model.graph.main.tensors if t.name == "dw")
    got = (qvals["dw"].astype(np.float64) - tensor.zero_point) * float(tensor.scale)
    return np.abs((got - fvals["dw"]).reshape(-1, 8).mean(axis=0)).mean()


def test_bias_correction_removes_the_mean_shift_and_matches_tflm():
    tflm_runtime()
    x = skewed_inputs((1, 8, 8, 3))
    plain = microforge.quantize(chain(), x, bias_correction=False)
    corrected = microforge.quantize(chain(), x)
    assert corrected.settings["bias_correction"] is True
    assert_tflm_rules(corrected.graph)
    assert assert_tflm_parity(corrected) == 200
    assert _mean_error(corrected, x) < _mean_error(plain, x)
    tuned = [d for d in corrected.details if d.weight_sqnr_corrected_db is not None]
    assert {d.op for d in tuned} == {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"}
    assert all(d.weight_sqnr_corrected_db >= d.weight_sqnr_db - 1e-9 for d in tuned)
    scales = [t.quant.scale for t in plain.graph.main.tensors if t.dtype == np.int8 and t.data is not None]
    same = [t.quant.scale for t in corrected.graph.main.tensors if t.dtype == np.int8 and t.data is not None]
    for a, b in zip(scales, same):
        np.testing.assert_array_equal(a, b)


def test_learned_rounding_beats_nearest_on_its_objective():
    graph = single_layer("CONV_2D", seed=3)
    x = np.random.default_rng(0).normal(0.5, 1, (64, 1, 9, 8, 3)).astype(np.float32)
    layer = linear_layer(0, graph.main, x)
    scale = np.abs(layer.weights).max(axis=1) / 127 * 8  # coarse grid: rounding matters
    q, steps = learned_rounding(layer, scale, centred=False, iterations=300, budget=10.0)
    assert 0 < steps <= 300
    s = scale[:, None]
    x_int = layer.weights / s
    assert np.all((q == np.floor(x_int)) | (q == np.floor(x_int) + 1) | (np.abs(q) == 127))
    learned = layer.error_power(q * s - layer.weights).sum()
    nearest = layer.error_power(np.round(x_int) * s - layer.weights).sum()
    assert learned < nearest


def test_learned_rounding_is_bounded_in_time():
    graph = single_layer("DEPTHWISE_CONV_2D", multiplier=2)
    x = np.random.default_rng(0).normal(size=(16, 1, 9, 8, 3)).astype(np.float32)
    layer = linear_layer(0, graph.main, x)
    scale = np.abs(layer.weights).max(axis=1) / 127
    _, steps = learned_rounding(layer, scale, centred=True, iterations=10**6, budget=0.05)
    assert steps < 10**6


def test_optimize_rounding_model_matches_tflm():
    tflm_runtime()
    x = skewed_inputs((1, 8, 8, 3))
    model = microforge.quantize(chain(), x, optimize_rounding=True)
    assert model.settings["rounding"] == "learned"
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model) == 200
    nearest = {d.name: d for d in microforge.quantize(chain(), x).details}
    rounded = [d for d in model.details if d.rounding is not None]
    assert rounded and all(d.weight_sqnr_corrected_db >= nearest[d.name].weight_sqnr_corrected_db
                           - 1e-9 for d in rounded)
    unbiased = microforge.quantize(chain(), x, optimize_rounding=True, bias_correction=False)
    assert all(d.weight_sqnr_db >= d.weight_sqnr_nearest_db - 1e-9
               for d in unbiased.details if d.rounding is not None)


def test_bias_correction_gives_a_biasless_layer_a_bias():
    tflm_runtime()
    graph = single_layer("CONV_2D", seed=2)
    op = graph.main.operators[0]
    op.inputs[2] = -1  # no bias
    x = skewed_inputs((1, 9, 8, 3), n=64)
    model = microforge.quantize(graph, x)
    conv = model.graph.main.operators[0]
    bias = model.graph.main.tensors[conv.inputs[2]]
    assert bias.dtype == np.int32 and bias.data.any()
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model) == 200
    plain = microforge.quantize(graph, x, bias_correction=False)
    assert len(plain.graph.main.operators[0].inputs) < 3 or plain.graph.main.operators[0].inputs[2] < 0
