"""int8 UNIDIRECTIONAL_SEQUENCE_LSTM quantization (the TFLite converter's scheme, TFLM's int8x8_16
kernel) on the float MNIST LSTM: the tensor types and parameters the scheme fixes, and bit-exact
parity with tflite-micro over whole sequences."""

from __future__ import annotations

import numpy as np

import microforge
from microforge.quantize.lstm import cell_scale
from tests.oracle import MODELS, tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules

LSTM = MODELS / "trained_lstm.tflite"


def _digits(n=64, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, 1, 28, 28)).astype(np.float32)


def test_cell_scale_is_the_converters_power_of_two():
    assert cell_scale(0.0) == 2.0 ** -15  # 2**0 is the smallest power the converter tries
    assert cell_scale(1.0) == 2.0 ** -15
    assert cell_scale(5.3) == 2.0 ** -12
    assert cell_scale(8.0) == 2.0 ** -12
    assert cell_scale(1e9) == 2.0 ** -5  # at most 2**10


def test_int8_lstm_follows_the_scheme_and_matches_tflm():
    tflm_runtime()
    model = microforge.quantize(LSTM, _digits())
    assert not model.kept_float
    sg = model.graph.main
    op = next(o for o in sg.operators if o.opcode == "UNIDIRECTIONAL_SEQUENCE_LSTM")
    x, out = sg.tensors[op.inputs[0]], sg.tensors[op.outputs[0]]
    hidden, cell = sg.tensors[op.inputs[18]], sg.tensors[op.inputs[19]]
    assert x.dtype == out.dtype == hidden.dtype == np.int8 and cell.dtype == np.int16
    assert hidden.is_variable and cell.is_variable
    assert (hidden.scale, hidden.zero_point) == (out.scale, out.zero_point)
    assert cell.zero_point == 0 and np.log2(cell.scale * 32768).is_integer()
    for pos, bias in zip((1, 2, 3, 4, 5, 6, 7, 8), (12, 13, 14, 15, None, None, None, None)):
        w = sg.tensors[op.inputs[pos]]
        assert w.dtype == np.int8 and w.quant.scale.size == 1 and w.zero_point == 0
        assert np.abs(w.data.astype(int)).max() == 127  # symmetric, max |w| / 127
        if bias is not None:
            b = sg.tensors[op.inputs[bias]]
            assert b.dtype == np.int32 and b.zero_point == 0
            np.testing.assert_allclose(b.scale, np.float32(x.scale) * w.scale, rtol=1e-6)
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model, n=100) == 100
    report = model.report(_digits(32, seed=1))
    assert report.outputs[0].sqnr_db > 30
