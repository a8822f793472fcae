"""Small real PyTorch models (tests/builders/torch_models.py) exported with torch.onnx: float
parity of microforge's runtime and of tflite-micro (running the written .tflite) against
onnxruntime, SQNR >= 100 dB; no TRANSPOSE operator left in these channels-first models.

The legacy exporter (``dynamo=False``) at opset 13 runs by default; torch 2.13's default
exporter (``dynamo=True``, its default opset) is marked slow (a few seconds per model).
"""

from __future__ import annotations

import numpy as np
import pytest

from microforge.frontends import write_tflite
from microforge.frontends.onnx import parse_onnx
from microforge.quantize.report import sqnr_db
from tests.builders import torch_models
from tests.builders.onnx_models import onnx_module, ort_run, run_in_onnx_layout
from tests.oracle import tflm_run

pytest.importorskip("torch", reason="torch not installed (extra [test])")
onnx_module()

NAMES = list(torch_models.MODELS)
SAMPLES = 3
EXPORTS = [pytest.param(False, id="legacy-opset13"),
           pytest.param(True, id="dynamo-default", marks=pytest.mark.slow)]


@pytest.fixture(scope="session")
def exported(tmp_path_factory):
    """ONNX bytes per (model, exporter), exported once per session into a temporary folder."""
    cache: dict[tuple[str, bool], bytes] = {}
    folder = tmp_path_factory.mktemp("onnx")

    def get(name: str, dynamo: bool) -> tuple[bytes, tuple[int, ...]]:
        model, shape = torch_models.build(name)
        if (name, dynamo) not in cache:
            data = torch_models.export(model, shape, opset=None if dynamo else 13, dynamo=dynamo)
            (folder / f"{name}-{'dynamo' if dynamo else 'legacy'}.onnx").write_bytes(data)
            cache[name, dynamo] = data
        return cache[name, dynamo], shape

    return get


@pytest.mark.parametrize("dynamo", EXPORTS)
@pytest.mark.parametrize("name", NAMES)
def test_runtime_matches_onnxruntime(exported, name, dynamo):
    data, shape = exported(name, dynamo)
    graph = parse_onnx(data, name)
    assert "TRANSPOSE" not in [op.opcode for op in graph.main.operators]
    for x in torch_models.sample(shape, SAMPLES):
        want = ort_run(data, [x])[0]
        got = run_in_onnx_layout(graph, [x])[0].reshape(want.shape)
        assert sqnr_db(want, got) >= 100


@pytest.mark.parametrize("name", NAMES)
def test_tflite_micro_runs_the_converted_model(exported, name):
    """The float .tflite written from the IR runs in tflite-micro and matches onnxruntime."""
    data, shape = exported(name, False)
    graph = parse_onnx(data, name)
    perm = graph.source.input_perms[0]
    xs = torch_models.sample(shape, SAMPLES)
    got = tflm_run(write_tflite(graph), [[x if perm is None else x.transpose(perm)] for x in xs])[0]
    for x, y in zip(xs, got):
        want = ort_run(data, [x])[0]
        assert sqnr_db(want, y.reshape(want.shape)) >= 100


def test_dynamic_batch_becomes_one(exported):
    """A dynamic batch axis is read as 1 and recorded as -1 in the input's shape signature."""
    model, shape = torch_models.build("resnet8")
    data = torch_models.export(model, shape, dynamic_batch=True)
    graph = parse_onnx(data, "resnet8")
    x = graph.main.tensors[graph.main.inputs[0]]
    assert x.shape == (1, 32, 32, 3) and x.shape_signature == (-1, 32, 32, 3)
    xs = torch_models.sample(shape, 2)
    want = np.concatenate([ort_run(data, [x])[0] for x in xs])
    got = np.concatenate([run_in_onnx_layout(graph, [x])[0] for x in xs])
    assert sqnr_db(want, got) >= 100


@pytest.mark.parametrize("name", ["ds_cnn", "resnet8"])
def test_quantizing_the_onnx_file_equals_the_float_tflite_path(exported, name):
    """``quantize`` straight from the .onnx (calibration in NCHW) gives the same int8 model as
    quantizing the float .tflite written from it (calibration channels-last): same SQNR."""
    import microforge

    data, shape = exported(name, False)
    calibration = torch_models.sample(shape, 16, seed=4)[:, 0]
    direct = microforge.quantize(data, calibration)
    perm = parse_onnx(data, name).source.input_perms[0]
    via = microforge.quantize(write_tflite(parse_onnx(data, name)),
                              np.ascontiguousarray(calibration.transpose(perm)))
    q = np.random.default_rng(5).integers(-128, 128, (8,) + direct.inputs[0].shape, dtype=np.int8)
    np.testing.assert_array_equal(direct.run(q)[0], via.run(q)[0])
    assert direct.report().outputs[0].sqnr_db == via.report().outputs[0].sqnr_db
