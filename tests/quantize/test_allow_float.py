"""Operators with no quantization rule: a clear error naming them, or, with allow_float, kept in
float between DEQUANTIZE and QUANTIZE (the float MNIST LSTM with int16 activations: the LSTM has
an int8 rule but no 16x8 one, so it stays float; the dense layer and softmax are 16x8)."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from tests.oracle import MODELS, tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules

LSTM = MODELS / "trained_lstm.tflite"


def _digits(n=64, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, 1, 28, 28)).astype(np.float32)


def test_unquantizable_operator_is_named():
    with pytest.raises(microforge.UnsupportedOpError) as error:
        microforge.quantize(LSTM, _digits(), int16_activations=True)
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM (operator 0: TFLM has no int16 variant" in str(error.value)
    assert "allow-float" in str(error.value)


@pytest.mark.parametrize("io", ["int8", "float"])
def test_allow_float_keeps_the_lstm_in_float_and_matches_tflm(io):
    tflm_runtime()
    model = microforge.quantize(LSTM, _digits(), allow_float=True, io=io, int16_activations=True)
    ops = [op.opcode for op in model.graph.main.operators]
    lstm = ops.index("UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert ops[lstm + 1] == "QUANTIZE" and "FULLY_CONNECTED" in ops
    assert (lstm > 0 and ops[lstm - 1] == "DEQUANTIZE") == (io == "int8")
    assert ops[-1] == ("DEQUANTIZE" if io == "float" else "SOFTMAX")
    assert model.kept_float and model.kept_float[0].startswith("UNIDIRECTIONAL_SEQUENCE_LSTM")
    assert_tflm_rules(model.graph, int16=True)
    assert assert_tflm_parity(model) == 200
    report = model.report(_digits(32, seed=1))
    assert "kept in float" in str(report) and report.kept_float == model.kept_float
    assert report.outputs[0].sqnr_db > 30
