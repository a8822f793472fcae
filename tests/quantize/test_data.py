"""Calibration data loading and the errors for bad input data or models."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.errors import InputError, ModelError
from microforge.ir.builder import GraphBuilder
from microforge.quantize.data import load_calibration
from tests.oracle import MODELS

F32 = np.float32
FLOAT = MODELS / "hello_world_float.tflite"


def _two_inputs():
    b = GraphBuilder()
    a, c = b.input("a", (1, 3), F32), b.input("c", (1, 3), F32)
    y = b.tensor("y", (1, 3), F32)
    b.op("ADD", [a, c], [y], fused_activation_function=0)
    b.output(y)
    graph = b.build()
    return graph, [graph.main.tensors[i] for i in graph.main.inputs]


def test_npy_npz_folder_list_and_dict(tmp_path):
    graph, inputs = _two_inputs()
    a = np.random.default_rng(0).normal(size=(10, 1, 3)).astype(F32)
    c = np.random.default_rng(1).normal(size=(10, 3))  # leading 1 replaced by the sample axis
    np.savez(tmp_path / "named.npz", c=c, a=a)
    np.savez(tmp_path / "ordered.npz", a, c)
    for source in (tmp_path / "named.npz", tmp_path / "ordered.npz", [a, c], {"a": a, "c": c}):
        got = load_calibration(source, inputs)
        np.testing.assert_array_equal(got[0], a)
        np.testing.assert_array_equal(got[1], c.reshape(10, 1, 3).astype(F32))
        assert all(g.dtype == F32 for g in got)
    folder = tmp_path / "set"
    folder.mkdir()
    np.savez(folder / "part1.npz", a=a[:4], c=c[:4])
    np.savez(folder / "part2.npz", a=a[4:], c=c[4:])
    got = load_calibration(folder, inputs)
    np.testing.assert_array_equal(got[0], a)
    one = tmp_path / "one.npy"
    np.save(one, np.zeros((5, 1), F32))
    model = microforge.quantize(FLOAT, one)
    assert model.report().samples == 5


@pytest.mark.parametrize("source,words", [
    (lambda p: p / "missing.npy", ["no such calibration file"]),
    (lambda p: p, ["no .npy or .npz files"]),
    (lambda p: np.zeros((8, 2), F32), ["shape [8, 2]", "[N, 1, 1]"]),
    (lambda p: np.zeros((0, 1), F32), ["no samples"]),
    (lambda p: np.array([[0.5], [np.nan], [np.inf]], F32), ["2 NaN/Inf", "sample(s) [1, 2]"]),
    (lambda p: [np.zeros((4, 1)), np.zeros((4, 1))], ["2 array(s)", "1 input"]),
    (lambda p: np.array([["a"], ["b"]]), ["not numeric"]),
    (lambda p: None, ["required"]),
])
def test_bad_calibration_data_is_a_clear_input_error(tmp_path, source, words):
    with pytest.raises(InputError) as error:
        microforge.quantize(FLOAT, source(tmp_path))
    message = str(error.value)
    assert "\n" not in message
    for w in words:
        assert w in message


def test_missing_input_and_sample_count_mismatch():
    graph, inputs = _two_inputs()
    with pytest.raises(InputError, match=r"no calibration data for input\(s\) \['c'\]"):
        load_calibration({"a": np.zeros((4, 3))}, inputs)
    with pytest.raises(InputError, match="different sample counts"):
        load_calibration([np.zeros((4, 3)), np.zeros((5, 3))], inputs)


def test_already_quantized_model_is_refused():
    with pytest.raises(ModelError, match="already quantized"):
        microforge.quantize(MODELS / "hello_world_int8.tflite", np.zeros((4, 1), F32))


@pytest.mark.parametrize("options,words", [
    ({"method": "kl"}, "unknown calibration method"),
    ({"io": "uint8"}, "io must be one of"),
    ({"percentile": 20.0}, "percentile must be"),
])
def test_bad_options(options, words):
    with pytest.raises(InputError, match=words):
        microforge.quantize(FLOAT, np.zeros((4, 1), F32), **options)
