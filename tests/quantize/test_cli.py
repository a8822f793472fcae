"""``microforge quantize`` on the command line: output written, never over an existing file
without --force, never over the input; one-line errors with exit 2 (input) or 1 (model)."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np

import microforge
from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS


def _setup(tmp_path):
    model = tmp_path / "float.tflite"
    shutil.copy(MODELS / "hello_world_float.tflite", model)
    data = tmp_path / "cal.npy"
    np.save(data, np.random.default_rng(0).uniform(0, 6.3, (200, 1)).astype(np.float32))
    return model, data


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_quantize_writes_a_runnable_int8_model_and_a_report(tmp_path):
    model, data = _setup(tmp_path)
    before = _digest(model)
    out = tmp_path / "int8.tflite"
    code, stdout, err = cli("quantize", model, "-o", out, "--calibration", data, "--report")
    assert code == 0, err
    assert "wrote" in stdout and "SQNR" in stdout and "worst layers" in stdout
    assert _digest(model) == before
    m = microforge.load(out)
    assert m.inputs[0].dtype == np.int8
    code, stdout, err = cli("quantize", model, "-o", tmp_path / "f.tflite", "-c", data, "--io",
                            "float", "--method", "minmax", "--per-tensor", "--report", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["settings"]["io"] == "float" and report["outputs"][0]["sqnr_db"] > 25
    assert microforge.load(tmp_path / "f.tflite").inputs[0].dtype == np.float32


def test_existing_output_needs_force_and_the_input_is_never_overwritten(tmp_path):
    model, data = _setup(tmp_path)
    out = tmp_path / "int8.tflite"
    out.write_bytes(b"keep me")
    code, _, err = cli("quantize", model, "-o", out, "-c", data)
    assert_one_line_error(code, err, 2, "already exists", "--force")
    assert out.read_bytes() == b"keep me"
    code, _, err = cli("quantize", model, "-o", out, "-c", data, "--force")
    assert code == 0, err
    before = _digest(model)
    code, _, err = cli("quantize", model, "-o", model, "-c", data, "--force")
    assert_one_line_error(code, err, 2, "is the input model")
    assert _digest(model) == before


def test_errors_are_one_line(tmp_path):
    model, data = _setup(tmp_path)
    out = tmp_path / "o.tflite"
    bad = tmp_path / "bad.npy"
    np.save(bad, np.full((3, 1), np.nan, np.float32))
    code, _, err = cli("quantize", model, "-o", out, "-c", bad)
    assert_one_line_error(code, err, 2, "NaN/Inf")
    code, _, err = cli("quantize", model, "-o", out, "-c", tmp_path / "none.npz")
    assert_one_line_error(code, err, 2, "no such calibration file")
    shaped = tmp_path / "shaped.npy"
    np.save(shaped, np.zeros((3, 2), np.float32))
    code, _, err = cli("quantize", model, "-o", out, "-c", shaped)
    assert_one_line_error(code, err, 2, "shape [3, 2]")
    code, _, err = cli("quantize", MODELS / "hello_world_int8.tflite", "-o", out, "-c", data)
    assert_one_line_error(code, err, 1, "already quantized")
    code, _, err = cli("quantize", tmp_path / "nope.tflite", "-o", out, "-c", data)
    assert_one_line_error(code, err, 2, "no such file")
    code, _, err = cli("quantize", model, "-c", data)
    assert_one_line_error(code, err, 2, "--output")
    lstm = tmp_path / "lstm.npy"
    np.save(lstm, np.zeros((4, 1, 28, 28), np.float32))
    # the LSTM has an int8 rule but no 16x8 one: with int16 activations it cannot be quantized
    code, _, err = cli("quantize", MODELS / "trained_lstm.tflite", "-o", out, "-c", lstm,
                       "--int16-activations")
    assert_one_line_error(code, err, 1, "UNIDIRECTIONAL_SEQUENCE_LSTM", "--allow-float")
    assert not out.exists()
    code, stdout, err = cli("quantize", MODELS / "trained_lstm.tflite", "-o", out, "-c", lstm,
                            "--int16-activations", "--allow-float")
    assert code == 0, err
    assert "kept in float: UNIDIRECTIONAL_SEQUENCE_LSTM" in stdout


def test_new_options_bias_correction_rounding_mixed(tmp_path):
    model, data = _setup(tmp_path)
    out = tmp_path / "o.tflite"
    code, stdout, err = cli("quantize", model, "-o", out, "-c", data, "--optimize-rounding",
                            "--no-bias-correction", "--report")
    assert code == 0, err
    assert "per layer" in stdout and "rounding learned" in stdout and "bias_correction False" in stdout
    code, _, err = cli("quantize", model, "-o", out, "-c", data, "--mixed", "--force")
    assert_one_line_error(code, err, 2, "--max-ram")
    code, _, err = cli("quantize", model, "-o", out, "-c", data, "--mixed", "--max-ram", "lots",
                       "--force")
    assert code == 2 and "not a byte count" in err
    code, stdout, err = cli("quantize", model, "-o", out, "-c", data, "--mixed", "--max-ram", "64k",
                            "--force", "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["mixed"]["max_ram"] == 65536 and report["layers"]
    assert "microforge:" not in err  # no progress line with --json


def test_nearest_rounding_and_no_equalization_flags(tmp_path):
    """--no-optimize-rounding and --no-equalization give the same model as the Python API with
    optimize_rounding=False and equalization=False."""
    from microforge.frontends.tflite.writer import write_tflite

    model, data = _setup(tmp_path)
    out = tmp_path / "o.tflite"
    code, _, err = cli("quantize", model, "-o", out, "-c", data, "--no-optimize-rounding",
                       "--no-equalization")
    assert code == 0, err
    api = microforge.quantize(model, data, optimize_rounding=False, equalization=False)
    assert out.read_bytes() == write_tflite(api.graph)
