"""``microforge report`` and ``microforge compile --report``: one HTML file; bad combinations are
one-line errors."""

from __future__ import annotations

import json
import re

import numpy as np

from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS


def _data(path):
    text = re.search(r'id="report-data">(.*?)</script>', path.read_text(), re.S).group(1)
    return json.loads(text)


def test_report_writes_one_html_file(tmp_path):
    out = tmp_path / "ms.html"
    code, stdout, err = cli("report", MODELS / "micro_speech_quantized.tflite", "-o", out)
    assert code == 0, err
    assert f"wrote {out}" in stdout and "4 operators" in stdout
    assert [p.name for p in tmp_path.iterdir()] == ["ms.html"]
    data = _data(out)
    assert data["title"] == "micro_speech_quantized.tflite" and data["quant"] is None
    code, _, err = cli("report", MODELS / "micro_speech_quantized.tflite", "-o", out)
    assert_one_line_error(code, err, 2, "already exists", "--force")


def test_report_with_calibration_quantizes_a_float_model(tmp_path):
    cal = tmp_path / "cal.npy"
    np.save(cal, np.random.default_rng(0).uniform(0, 6.28, (16, 1)).astype(np.float32))
    out = tmp_path / "hw.html"
    code, stdout, err = cli("report", MODELS / "hello_world_float.tflite", "-o", out, "--calibration", cal)
    assert code == 0, err
    assert "quantization measured on 16 samples" in stdout
    assert len(_data(out)["quant"]["layers"]) == 3


def test_report_argument_errors(tmp_path):
    out = tmp_path / "r.html"
    model = MODELS / "hello_world_int8.tflite"
    code, _, err = cli("report", model, "-o", out, "--float", MODELS / "hello_world_float.tflite")
    assert_one_line_error(code, err, 2, "--float needs --calibration")
    cal = tmp_path / "c.npy"
    np.save(cal, np.zeros((2, 1), np.float32))
    code, _, err = cli("report", model, "-o", out, "--calibration", cal)
    assert_one_line_error(code, err, 2, "--float FLOAT_MODEL")
    code, _, err = cli("report", tmp_path / "missing.tflite", "-o", out)
    assert_one_line_error(code, err, 2, "no such file")
    assert not out.exists()


def test_compile_writes_the_report_beside_the_library(tmp_path):
    out = tmp_path / "hw.html"
    code, stdout, err = cli("compile", MODELS / "hello_world_int8.tflite", "-o", tmp_path / "lib",
                            "--report", out)
    assert code == 0, err
    assert f"wrote {out}" in stdout
    data = _data(out)
    assert data["summary"]["target"] == "host" and len(data["operators"]) == 3
    assert {op["backend"] for op in data["operators"]} == {"c"}
