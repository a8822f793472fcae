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
