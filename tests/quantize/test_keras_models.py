"""Float models built and trained (a few seconds, synthetic data) with TensorFlow/Keras, converted
to float .tflite by the TFLite converter, quantized by microforge: TFLM rules, bit-exact TFLM
parity on 200 random inputs, accuracy against the Keras model, and the converter's int8 model as
a yardstick."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import microforge
from microforge.frontends.tflite.reader import read_tflite
from microforge.passes import PassManager, fold_constants, remove_dead
from microforge.quantize.report import quantize_input, sqnr_db
from tests.builders.keras_models import BUILDERS, MORE, make
from tests.oracle import tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules


@cache
def _trained(name: str):
    return make(name, held_out=1024)


@pytest.fixture(scope="module", params=list(BUILDERS))
def trained(request):
    return _trained(request.param)


def _outputs(model: microforge.Model, x: np.ndarray) -> list[np.ndarray]:
    tensor = model.graph.main.tensors[model.inputs[0].index]
    outs = model.run(quantize_input(x, tensor))
    return [((o.astype(np.float64) - i.zero_point) * i.scale if i.dtype != np.float32 else o)
            .reshape(len(x), -1) for o, i in zip(outs, model.outputs)]


def _reference(trained) -> list[np.ndarray]:
    refs = trained.keras_model.predict(trained.test_x, verbose=0)
    refs = refs if isinstance(refs, list) else [refs]
    return [np.asarray(r, np.float64).reshape(len(trained.test_x), -1) for r in refs]


def _worst_sqnr(outputs, refs) -> float:
    return min(max(sqnr_db(r, o) for o in outputs if o.shape == r.shape) for r in refs)


def test_quantized_model_follows_the_rules_and_matches_tflm(trained):
    tflm_runtime()
    model = microforge.quantize(trained.float_tflite, trained.train_x)
    assert not model.kept_float
    assert all(t.dtype == np.int8 for t in model.graph.main.tensors if t.data is None)
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model) == 200


def test_accuracy_against_keras_and_the_converter(trained):
    import tensorflow as tf

    model = microforge.quantize(trained.float_tflite, trained.train_x)
    refs = _reference(trained)
    ours = _worst_sqnr(_outputs(model, trained.test_x), refs)
    assert ours > 30
    report = model.report(trained.test_x[:256])
    for name, agreement in report.top1.items():
        assert agreement > 0.95, name
    assert len(report.worst()) == min(5, len(report.tensors) - len(model.inputs))

    def representative():
        for x in trained.train_x:
            yield [x[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(trained.keras_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    graph, _ = PassManager([fold_constants, remove_dead])(read_tflite(converter.convert()))
    theirs = _worst_sqnr(_outputs(microforge.Model(graph), trained.test_x), refs)
    assert ours >= theirs - 0.5, (ours, theirs)


@pytest.mark.parametrize("name", ["small_cnn", "mlp_tanh"])
@pytest.mark.parametrize("options", [{"io": "float"}, {"int16_activations": True},
                                     {"per_channel": False, "method": "percentile"},
                                     {"optimize_rounding": True, "method": "minmax"},
                                     {"mixed": True, "max_ram": 1 << 20}])
def test_variants_match_tflm(name, options):
    tflm_runtime()
    trained = _trained(name)
    model = microforge.quantize(trained.float_tflite, trained.train_x, **options)
    if not options.get("mixed"):  # mixed: int8 and int16 operators side by side
        assert_tflm_rules(model.graph, int16=options.get("int16_activations", False))
    assert_tflm_parity(model)
    assert _worst_sqnr(_outputs(model, trained.test_x), _reference(trained)) > 25


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MORE))
def test_benchmark_models_match_tflm(name):
    """The benchmark's MobileNetV1-style, ResNet-8, autoencoder and LSTM models: the default
    quantization (auto ranges, bias correction; the LSTM int8 with an int16 cell state) runs
    bit-exactly in tflite-micro."""
    tflm_runtime()
    trained = make(name, held_out=256)
    model = microforge.quantize(trained.float_tflite, trained.train_x)
    assert not model.kept_float
    assert_tflm_rules(model.graph)
    assert assert_tflm_parity(model, n=50) == 50
