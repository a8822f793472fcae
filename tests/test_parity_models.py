"""Whole-model parity with TFLite Micro on every shared model the runtime supports: 200 seeded random
inputs per model (dtype extremes first), computed as one batch, as batches of 64 and one at a time;
stateful models as independent sequences of calls. Zero differing bytes."""

import numpy as np
import pytest

import microforge
from tests.builders.arrays import random_inputs
from tests.oracle import MODELS, tflm_run

N = 200
STATELESS = [
    "hello_world_int8.tflite",
    "hello_world_float.tflite",
    "micro_speech_quantized.tflite",
    "person_detect.tflite",
    "simple_add_model.tflite",
]
STATEFUL = [
    "keyword_scrambled.tflite",
    "keyword_scrambled_8bit.tflite",
    "trained_lstm_int8.tflite",
    "trained_lstm.tflite",
    "dtln_noise_suppression.tflite",
]


def _inputs(model, n, seed=0):
    return [random_inputs(i.shape, i.dtype, n, seed=seed + k) for k, i in enumerate(model.inputs)]


def _assert_same(got, expected):
    for g, e in zip(got, expected):
        assert g.dtype == e.dtype
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("name", STATELESS)
def test_stateless_model_matches_tflm(name):
    path = MODELS / name
    model = microforge.load(path)
    assert not model.stateful
    xs = _inputs(model, N)
    expected = tflm_run(path, [[x[j] for x in xs] for j in range(N)])
    # whole batch at once
    _assert_same(model.run(xs), expected)
    # batches of 64 (the last one shorter)
    for start in range(0, N, 64):
        part = [x[start : start + 64] for x in xs]
        _assert_same(model.run(part), [e[start : start + 64] for e in expected])
    # batch = 1, passed as a single sample in the tensor's own shape
    for j in range(0, N, 25):
        got = model.run([x[j] for x in xs])
        _assert_same([g[None] for g in got], [e[j : j + 1] for e in expected])


@pytest.mark.parametrize("name", STATEFUL)
def test_stateful_model_matches_tflm_over_sequences(name):
    path = MODELS / name
    model = microforge.load(path)
    assert model.stateful
    sequences, steps = 20, 10  # 200 inputs in all
    xs = _inputs(model, sequences * steps)
    per_step = [[x[s * sequences : (s + 1) * sequences] for x in xs] for s in range(steps)]
    expected = [[[] for _ in model.outputs] for _ in range(steps)]
    for q in range(sequences):
        seq = [[per_step[s][k][q] for k in range(len(xs))] for s in range(steps)]
        outs = tflm_run(path, seq, reset_each=False)
        for s in range(steps):
            for k, o in enumerate(outs):
                expected[s][k].append(o[s])
    model.reset()
    for s in range(steps):
        _assert_same(model.run(per_step[s]), [np.stack(e) for e in expected[s]])
    # reset() starts every sequence again from the initial state
    model.reset()
    _assert_same(model.run(per_step[0]), [np.stack(e) for e in expected[0]])
    # one sequence alone (batch = 1) gives the same as inside the batch
    model.reset()
    for s in range(3):
        got = model.run([per_step[s][k][:1] for k in range(len(xs))])
        _assert_same(got, [np.stack(e)[:1] for e in expected[s]])
