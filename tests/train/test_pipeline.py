"""The training pipeline's pieces that need no training: the calibration set that pins the int8
input to the features' own scale, the missing-extra error, the model card's table."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from microforge.errors import ToolError
from microforge.train.card import confusion_table
from microforge.train.model import keras
from microforge.train.pipeline import SCALE, calibration_set


def test_calibration_set_spans_the_int8_feature_range():
    x = np.random.default_rng(0).integers(-20, 20, size=(50, 49, 40)).astype(np.float32) / SCALE
    cal = calibration_set(x, 10, seed=1)
    assert cal.shape == (11, 49, 40, 1)
    assert cal.min() == -1.0 and cal.max() == 127 / 128
    # min/max quantization of [-1, 127/128] to int8: scale 1/128, zero point 0 exactly
    assert (cal.max() - cal.min()) / 255 == 1 / 128


def test_missing_keras_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)
    with pytest.raises(ToolError, match=r"pip install 'microforge\[train\]'"):
        keras()


def test_confusion_table_rows_are_the_truth():
    lines = confusion_table(["a", "b"], [[3, 1], [0, 2]])
    assert lines[0] == "| truth \\ predicted | a | b |"
    assert lines[2:] == ["| a | 3 | 1 |", "| b | 0 | 2 |"]
