"""``auto`` calibration: per tensor the candidate that least hurts its consumers, scored on the
calibration data; the result still follows TFLM's rules and runs bit-exactly in tflite-micro."""

from __future__ import annotations

import numpy as np

import microforge
from microforge.passes import prepare
from microforge.quantize import DEFAULT_METHOD
from microforge.quantize.calibration import TensorStats, choose_range, collect
from microforge.quantize.linear import linear_layer
from microforge.quantize.search import candidates, fake_quantize, search_ranges
from tests.builders.quant_graphs import chain, skewed_inputs
from tests.oracle import tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules


def _stats(values: np.ndarray) -> TensorStats:
    return TensorStats(float(values.min()), float(values.max()), values.astype(np.float32))


def test_auto_is_the_default_and_matches_tflm():
    tflm_runtime()
    assert DEFAULT_METHOD == "auto"
    x = skewed_inputs((1, 8, 8, 3))
    model = microforge.quantize(chain(), x)
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model) == 200
    methods = {d.method for d in model.details}
    assert methods <= {"minmax", "bounded", "percentile 99.99", "percentile 99.9", "mse", "entropy",
                       "fixed by TFLM"}
    assert {d.name for d in model.details} >= {"x", "conv", "dw", "sum", "logits"}


def test_auto_picks_the_candidate_with_the_lowest_score():
    graph = prepare(chain())
    sg = graph.main
    x = skewed_inputs((1, 8, 8, 3))
    weighted = {i: op.inputs[0] for i, op in enumerate(sg.operators) if op.opcode != "ADD"
                and op.opcode in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")}
    stats = collect(graph, [x], keep=set(weighted.values()))
    layers = {i: linear_layer(i, sg, stats[t].whole) for i, t in weighted.items()}
    choices = search_ranges(graph, stats, layers)
    assert set(choices) == set(stats)
    for t, choice in choices.items():
        assert choice.scores[choice.method] == min(choice.scores.values()), sg.tensors[t].name
    conv_input = choices[sg.operators[0].inputs[0]]
    assert len(conv_input.scores) > 1 and max(conv_input.scores.values()) > 0


def test_candidates_cover_the_methods_and_drop_duplicates():
    values = np.random.default_rng(0).standard_t(3, 50_000)
    found = candidates(_stats(values), False, None)
    assert list(found)[0] == "minmax"
    assert len(set(found.values())) == len(found)
    lo, hi = found["minmax"]
    assert all(lo <= a and b <= hi for a, b in found.values())


def test_entropy_clips_a_heavy_tail_and_keeps_a_uniform_range():
    heavy = np.random.default_rng(0).standard_t(2, 100_000)
    lo, hi = choose_range(_stats(heavy), "entropy")
    assert hi < heavy.max() and lo > heavy.min()
    uniform = np.random.default_rng(0).uniform(0, 4, 100_000)
    lo, hi = choose_range(_stats(uniform), "entropy")
    assert lo == 0 and hi > 3.5
    assert choose_range(_stats(heavy), "entropy", levels=65536) == (heavy.min(), heavy.max())


def test_fake_quantize_is_exact_on_the_grid_and_clips():
    scale_hi = 2.55
    grid = (np.arange(-128, 128) - (-128)) * 0.01
    np.testing.assert_allclose(fake_quantize(grid.astype(np.float32), 0.0, scale_hi, False), grid,
                               atol=1e-6)
    assert fake_quantize(np.array([10.0], np.float32), 0.0, scale_hi, False)[0] < 2.6


def test_a_squashed_input_is_clipped_where_the_fixed_output_saturates():
    """FULLY_CONNECTED -> TANH: inputs past atanh(1 - 1/512) all give the top int8 level, so the
    search clips the wide FC output there; the model still runs bit-exactly in tflite-micro."""
    from microforge.ir.builder import GraphBuilder
    from microforge.quantize.search import saturation

    lo, hi = saturation("TANH", (1 / 128, 0), False)
    assert np.tanh(hi) * 128 > 126.5 and np.tanh(lo) * 128 < -127.5
    lo16, hi16 = saturation("LOGISTIC", (1 / 32768, 0), True)  # int16: no negative levels
    assert np.isfinite([lo16, hi16]).all() and lo16 < -10 < 10 < hi16
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input("x", (1, 6), np.float32)
    h = b.tensor("h", (1, 8), np.float32)
    b.op("FULLY_CONNECTED", [x, b.const("w", (4 * rng.normal(size=(8, 6))).astype(np.float32)),
                             b.const("b", np.zeros(8, np.float32))], [h], fused_activation_function=0)
    y = b.tensor("y", (1, 8), np.float32)
    b.op("TANH", [h], [y])
    b.output(y)
    model = microforge.quantize(b.build(), rng.normal(size=(256, 1, 6)))
    detail = next(d for d in model.details if d.name == "h")
    assert detail.method.startswith("saturation") and detail.range[1] <= hi + 1e-6
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model) == 200
