"""Float parity of the Keras frontend: every test model, saved as Keras 3 ``.keras``, Keras 3
legacy ``.h5`` and tf_keras ``.h5``, run by microforge against Keras's own output (SQNR >= 100 dB),
and the IR written as ``.tflite`` run in the tflite-micro package against microforge."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.frontends import read_model
from microforge.frontends.tflite import write_tflite
from microforge.quantize.report import sqnr_db
from tests.builders.keras_frontend_models import MODELS, WRITERS
from tests.oracle import tflm_run

MIN_SQNR_DB = 100.0


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("name", list(MODELS))
def test_matches_keras(keras_files, name, writer):
    saved = keras_files[(name, writer)]
    model = microforge.load(saved.path)
    model.reset()
    got = model.run(saved.x)[0]
    assert got.shape == saved.want.shape
    assert sqnr_db(saved.want, got) >= MIN_SQNR_DB


@pytest.mark.parametrize("writer", ["keras3.keras", "tf_keras.h5"])
@pytest.mark.parametrize("name", list(MODELS))
def test_written_tflite_runs_in_tflm(keras_files, name, writer):
    """The converted float model, run sample by sample in TFLM, matches microforge's runtime (and
    so Keras)."""
    saved = keras_files[(name, writer)]
    data = write_tflite(read_model(saved.path))
    model = microforge.load(data)
    want = np.stack([(model.reset(), model.run(x[None])[0][0])[1] for x in saved.x])
    got = tflm_run(data, [[x[None]] for x in saved.x])[0][:, 0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert sqnr_db(saved.want, got) >= MIN_SQNR_DB


def _ops(saved) -> list[str]:
    return [op.opcode for op in read_model(saved.path).main.operators]


@pytest.mark.parametrize("writer", WRITERS)
def test_batch_norm_folds_and_relu_fuses_as_the_converter_does(keras_files, writer):
    """ds_cnn: every batch norm follows a convolution, so none is left; every ReLU is fused (the
    SeparableConv2D's depthwise half has none: its ReLU follows the 1x1 half)."""
    graph = read_model(keras_files[("ds_cnn", writer)].path)
    ops = [op.opcode for op in graph.main.operators]
    assert ops == ["CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D",
                   "MEAN", "FULLY_CONNECTED", "SOFTMAX"]
    fused = [int(op.options["fused_activation_function"]) for op in graph.main.operators[:5]]
    assert fused == [1, 1, 1, 0, 1]


def test_lowerings_of_1d_layers_lstm_and_unfoldable_batch_norm(keras_files):
    audio = _ops(keras_files[("audio_1d", "keras3.keras")])
    assert audio[:3] == ["EXPAND_DIMS", "CONV_2D", "RESHAPE"] and "REDUCE_MAX" in audio
    assert "PAD" in audio and "MUL" not in audio  # causal padding; the batch norm folded
    assert _ops(keras_files[("lstm", "tf_keras.h5")]) == [
        "UNIDIRECTIONAL_SEQUENCE_LSTM", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE",
        "FULLY_CONNECTED", "SOFTMAX"]
    auto = _ops(keras_files[("autoencoder", "keras3.keras")])
    assert auto.count("MUL") == 1 and auto.count("ADD") == 1  # batch norm after a ReLU stays


def test_dynamic_batch_becomes_one_with_a_signature(keras_files):
    sg = read_model(keras_files[("resnet8", "keras3.keras")].path).main
    x = sg.tensors[sg.inputs[0]]
    assert x.shape == (1, 32, 32, 3) and x.shape_signature == (-1, 32, 32, 3)
    assert read_model(keras_files[("resnet8", "keras3.keras")].path).source is None
