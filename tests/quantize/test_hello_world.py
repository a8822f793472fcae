"""hello_world_float.tflite (three dense layers) quantized from sine-wave calibration data."""

import numpy as np
import pytest

import microforge
from microforge.frontends.tflite.reader import read_tflite
from tests.oracle import MODELS, tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules

FLOAT = MODELS / "hello_world_float.tflite"


def _calibration(n=500, seed=0):
    return np.random.default_rng(seed).uniform(0, 2 * np.pi, (n, 1)).astype(np.float32)


@pytest.mark.parametrize("method", ["minmax", "percentile", "mse"])
def test_hello_world_int8_matches_tflm_and_tracks_the_float_model(method):
    tflm_runtime()
    model = microforge.quantize(FLOAT, _calibration(), method=method)
    assert model.inputs[0].dtype == np.int8 and model.outputs[0].dtype == np.int8
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model) == 200
    report = model.report(_calibration(300, seed=1))
    assert report.outputs[0].sqnr_db > 30
    assert [t.op for t in report.worst()][:1]


def test_hello_world_against_the_converter_int8_model():
    """Our int8 model is at least as close to the float model as the shipped TFLite int8 one."""
    x = _calibration(400, seed=2)
    ref = microforge.load(FLOAT).run(x)[0].astype(np.float64)
    ours = microforge.quantize(FLOAT, _calibration())
    shipped = microforge.load(MODELS / "hello_world_int8.tflite")

    def err(m):
        i, o = m.inputs[0], m.outputs[0]
        q = np.clip(np.round(x / i.scale) + i.zero_point, -128, 127).astype(np.int8)
        y = (m.run(q)[0].astype(np.float64) - o.zero_point) * o.scale
        return float(((y - ref) ** 2).mean())

    assert err(ours) <= err(shipped) * 1.1


def test_float_io_and_per_tensor_and_int16():
    tflm_runtime()
    for options in ({"io": "float"}, {"per_channel": False}, {"int16_activations": True}):
        model = microforge.quantize(FLOAT, _calibration(), **options)
        assert_tflm_rules(model.graph, int16=options.get("int16_activations", False))
        assert_tflm_parity(model)
    float_io = microforge.quantize(FLOAT, _calibration(), io="float")
    ops = [op.opcode for op in float_io.graph.main.operators]
    assert ops[0] == "QUANTIZE" and ops[-1] == "DEQUANTIZE"
    assert float_io.inputs[0].dtype == np.float32


def test_input_model_is_not_modified_and_api_accepts_graph_and_model():
    data = FLOAT.read_bytes()
    graph = read_tflite(data)
    microforge.quantize(graph, _calibration())
    microforge.quantize(microforge.load(data), _calibration())
    assert FLOAT.read_bytes() == data
    assert graph.main.tensors[graph.main.inputs[0]].dtype == np.float32
