"""Quantizing straight from a Keras file reaches the SQNR that the same calibration gives through
the TFLite converter's float .tflite (both measured against Keras's float output), and the int8
model runs bit-exactly in tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.frontends.tflite import write_tflite
from microforge.quantize.report import sqnr_db
from tests.builders.keras_frontend_models import build, inputs
from tests.oracle import assert_tflm_parity

# audio_1d and zoo are left out: the converter lowers their dilated convolutions to
# SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND and zoo's Reshape to a dynamic shape computation, which
# microforge does not run; lstm: its float LSTM is not quantized (and the converter needs a fixed
# batch size for it).
COMPARED = ["ds_cnn", "mobilenet_v2", "resnet8", "autoencoder"]


@pytest.mark.slow
@pytest.mark.parametrize("name", COMPARED)
def test_quantize_from_keras_matches_the_converter_path(tmp_path, name):
    tf = pytest.importorskip("tensorflow", reason="tensorflow not installed (optional extra [tf])")
    model = build(name, "keras3")
    path = tmp_path / f"{name}.keras"
    model.save(path)
    converted = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    calibration, test = inputs(name, 64, seed=1), inputs(name, 64, seed=2)
    want = model.predict(test, verbose=0)
    # the range search, bias correction, learned rounding and equalization are data-driven: float
    # rounding differences between the two graphs may flip a choice, so the frontends are
    # compared with a fixed rule (minmax, weights rounded to nearest, no bias correction, no
    # channel equalization)
    fixed = {"io": "float", "method": "minmax", "bias_correction": False,
             "optimize_rounding": False, "equalization": False}
    direct = microforge.quantize(path, calibration, **fixed)
    via_tflite = microforge.quantize(converted, calibration, **fixed)
    ours, theirs = sqnr_db(want, direct.run(test)[0]), sqnr_db(want, via_tflite.run(test)[0])
    assert abs(ours - theirs) <= 0.1, (ours, theirs)

    int8 = microforge.quantize(path, calibration)
    x = int8.inputs[0]
    xq = np.clip(np.round(test[:8] / x.scale) + x.zero_point, -128, 127).astype(np.int8)
    assert_tflm_parity(write_tflite(int8.graph), xq[:, None])  # samples in the (1, ...) shape
