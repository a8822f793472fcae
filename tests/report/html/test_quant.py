"""Per-layer quantization error in the report: a quantized model is matched to its float twin by
tensor name, a float model is quantized for the report, and the worst layers are marked."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.errors import InputError
from microforge.frontends import read_model
from microforge.quantize.report import compare
from microforge.report.html.quant import match_tensors, measure
from tests.oracle import MODELS


@pytest.fixture
def mnist_like(tmp_path):
    path = tmp_path / "cal.npy"
    np.save(path, np.random.default_rng(1).uniform(0, 1, (8, 28, 28)).astype(np.float32))
    return path


def test_twins_match_by_name_and_agree_with_compare(mnist_like):
    q = read_model(MODELS / "trained_lstm_int8.tflite")
    f = read_model(MODELS / "trained_lstm.tflite")
    origin = match_tensors(q, f)
    for op_q, op_f in zip(q.main.operators, f.main.operators):
        assert origin[op_q.outputs[0]] == op_f.outputs[0]
    graph, view = measure(q, mnist_like, f)
    assert graph is q and view["samples"] == 8
    assert [layer["op_index"] for layer in view["layers"]] == [0, 1, 2, 3]
    data = [np.load(mnist_like)]
    expected = {t.name: t for t in compare(f, q, origin, data).tensors}
    for layer in view["layers"]:
        name = f.main.tensors[origin[q.main.operators[layer["op_index"]].outputs[0]]].name
        assert layer["sqnr_db"] == pytest.approx(expected[name].sqnr_db)
        assert layer["cosine"] == pytest.approx(expected[name].cosine)
    worst = [layer for layer in view["layers"] if layer["worst"]]
    assert len(worst) == 1 and worst[0]["sqnr_db"] == min(x["sqnr_db"] for x in view["layers"])


def test_float_model_is_quantized_for_the_report(tmp_path):
    cal = tmp_path / "x.npy"
    np.save(cal, np.random.default_rng(0).uniform(0, 6.28, (32, 1)).astype(np.float32))
    graph, view = measure(read_model(MODELS / "hello_world_float.tflite"), cal, None)
    assert graph.main.tensors[graph.main.inputs[0]].dtype == np.int8
    assert len(view["layers"]) == 3 and view["settings"]["weights"] == "per-channel"
    assert all(layer["sqnr_db"] > 20 for layer in view["layers"])


def test_wrong_combinations_are_input_errors(mnist_like):
    q = read_model(MODELS / "trained_lstm_int8.tflite")
    f = read_model(MODELS / "trained_lstm.tflite")
    with pytest.raises(InputError, match="--float FLOAT_MODEL"):
        measure(q, mnist_like, None)
    with pytest.raises(InputError, match="this model is float"):
        measure(f, mnist_like, f)
    with pytest.raises(InputError, match="no operator output"):
        match_tensors(q, read_model(MODELS / "person_detect.tflite"))
