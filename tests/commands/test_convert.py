"""``microforge convert``: writes what microforge reads as a .tflite; never overwrites the input."""

from __future__ import annotations

import json

import numpy as np

import microforge
from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS


def test_convert_tflite_round_trip(tmp_path):
    out = tmp_path / "hw.tflite"
    code, stdout, err = cli("convert", MODELS / "hello_world_int8.tflite", "-o", out, "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["format"] == "TensorFlow Lite" and result["operators"] == 3
    x = np.arange(-128, 128, dtype=np.int8).reshape(-1, 1)
    np.testing.assert_array_equal(microforge.load(out).run(x)[0],
                                  microforge.load(MODELS / "hello_world_int8.tflite").run(x)[0])


def test_convert_never_overwrites(tmp_path):
    src = tmp_path / "m.tflite"
    src.write_bytes((MODELS / "hello_world_int8.tflite").read_bytes())
    code, _, err = cli("convert", src, "-o", src, "--force")
    assert_one_line_error(code, err, 2, "is the input model")
    other = tmp_path / "o.tflite"
    other.write_bytes(b"keep")
    code, _, err = cli("convert", src, "-o", other)
    assert_one_line_error(code, err, 2, "already exists", "--force")
    assert other.read_bytes() == b"keep"


def test_convert_corrupt_model(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    code, _, err = cli("convert", bad, "-o", tmp_path / "x.tflite")
    assert_one_line_error(code, err, 1)
    assert not (tmp_path / "x.tflite").exists()


def test_onnx_runs_in_its_own_layout_and_converts_channels_last(tmp_path):
    """A float NCHW ONNX model: ``load().run`` takes NCHW and matches onnxruntime; ``convert``
    writes a channels-last float .tflite that tflite-micro runs; ``inspect`` shows the mapping."""
    import pytest

    pytest.importorskip("torch", reason="torch not installed (extra [test])")
    from microforge.quantize.report import sqnr_db
    from tests.builders import torch_models
    from tests.builders.onnx_models import ort_run
    from tests.oracle import tflm_run

    net, shape = torch_models.build("ds_cnn")
    src = tmp_path / "ds_cnn.onnx"
    src.write_bytes(torch_models.export(net, shape))
    x = torch_models.sample(shape, 4)[:, 0]  # (4, 1, 49, 10): NCHW
    model = microforge.load(src)
    assert model.inputs[0].shape == shape
    ours = model.run(x)[0]
    theirs = np.concatenate([ort_run(src.read_bytes(), [s[None]])[0] for s in x])
    assert sqnr_db(theirs, ours.reshape(theirs.shape)) >= 100

    code, stdout, err = cli("convert", src, "-o", tmp_path / "ds_cnn.tflite", "--json")
    assert code == 0, err
    result = json.loads(stdout)
    assert result["format"] == "ONNX" and result["layout"][0]["source_shape"] == list(shape)
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    tflm = tflm_run(tmp_path / "ds_cnn.tflite", [[s[None]] for s in nhwc])[0]
    assert sqnr_db(theirs, tflm.reshape(theirs.shape)) >= 100

    code, stdout, err = cli("inspect", src)
    assert code == 0, err
    assert "layout: ONNX" in stdout and "[1,1,49,10] -> [1,49,10,1]" in stdout


def test_qdq_onnx_converts_to_int8_tflite(tmp_path):
    """A QDQ model from onnxruntime's quantizer: ``convert`` writes an int8 .tflite that
    tflite-micro runs bit-identically to microforge's runtime."""
    import pytest

    pytest.importorskip("torch", reason="torch not installed (extra [test])")
    pytest.importorskip("onnxruntime", reason="onnxruntime not installed (extra [test])")
    from tests.builders import onnx_quant
    from tests.oracle import tflm_run

    net, shape = onnx_quant.MODELS["convnet"]()
    float_path = onnx_quant.export(net, shape, tmp_path / "f.onnx")
    qdq = onnx_quant.quantize(float_path, tmp_path / "q.onnx", onnx_quant.QuantSetting(), shape)
    out = tmp_path / "q.tflite"
    code, stdout, err = cli("convert", qdq, "-o", out)
    assert code == 0, err
    assert "int8 inputs and outputs" in stdout
    model = microforge.load(out)
    rng = np.random.default_rng(3)
    q = rng.integers(-128, 128, size=(6,) + model.inputs[0].shape, dtype=np.int8)
    ours = model.run(q)[0]
    theirs = tflm_run(out, [[s] for s in q])[0]
    np.testing.assert_array_equal(ours.reshape(theirs.shape), theirs)
