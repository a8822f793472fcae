"""Generated C for SVDF against the Python runtime (which is checked against TFLM in
tests/runtime/test_svdf.py): every SVDF of both keyword models, synthetic int8-state wrap-around
and int16 time-accumulator overflow, float32 with each activation, and the whole keyword models.
Stateful graphs are verified as sequences of 10 invokes with a reset between sequences."""

from __future__ import annotations

import numpy as np
import pytest

from microforge.frontends.tflite.reader import read_tflite
from microforge.ir.builder import extract_operator
from tests.builders.c import check
from tests.builders.ops import SVDF_REAL_OPS, float_svdf_model, int_svdf_model
from tests.oracle import MODELS


@pytest.mark.parametrize("name,index", SVDF_REAL_OPS)
def test_keyword_model_svdf_ops(name, index, tmp_path):
    """int16 state (keyword_scrambled) and int8 state with nonzero zero points (_8bit)."""
    check(extract_operator(read_tflite(MODELS / name), index), tmp_path)


def test_int8_state_wraps_like_tflm(tmp_path):
    """Saturated feature plus zero point 100 wraps modulo 256; rank 2, model batch 2."""
    check(read_tflite(int_svdf_model(np.int8, seed=1)), tmp_path)


def test_int16_time_accumulator_wraps(tmp_path):
    graph = read_tflite(int_svdf_model(np.int16, seed=2, scale_state=0.001, state_zp=0,
                                  scale_wt=0.0005))
    check(graph, tmp_path)


@pytest.mark.parametrize("activation", [0, 1, 2, 3, 4])
def test_float_svdf(activation, tmp_path):
    check(read_tflite(float_svdf_model(activation, seed=activation)), tmp_path)


def test_float_svdf_rank_one(tmp_path):
    check(read_tflite(float_svdf_model(0, seed=9, rank=1)), tmp_path)


@pytest.mark.parametrize("name", ["keyword_scrambled.tflite", "keyword_scrambled_8bit.tflite"])
def test_whole_keyword_models(name, tmp_path):
    check(read_tflite(MODELS / name), tmp_path / "plain")
    check(read_tflite(MODELS / name), tmp_path / "sanitized", n=50, sanitize=True)


def test_sanitized_synthetic_svdfs(tmp_path):
    check(read_tflite(int_svdf_model(np.int8, seed=1)), tmp_path / "s8", n=50, sanitize=True)
    check(read_tflite(float_svdf_model(4, seed=4)), tmp_path / "f32", n=50, sanitize=True)
