"""PRELU and RESIZE_NEAREST_NEIGHBOR through the quantizer: alpha int8 per tensor with zero point
0 (what the TFLite converter makes of a Keras PReLU, checked against the converter itself), the
resize keeping its input's parameters; bit-exact against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest

import microforge
from microforge.ir.builder import GraphBuilder
from tests.oracle import tflm_runtime
from tests.quantize._check import assert_tflm_parity, assert_tflm_rules

F32 = np.float32


def _graph(alpha_shape=(1, 1, 4)):
    """x (1, 6, 6, 4) -> PRELU -> RESIZE (12, 12) -> RESIZE (5, 5, half-pixel) -> y."""
    rng = np.random.default_rng(0)
    b = GraphBuilder()
    x = b.input("x", (1, 6, 6, 4), F32)
    p = b.tensor("p", (1, 6, 6, 4), F32)
    b.op("PRELU", [x, b.const("alpha", rng.uniform(-0.5, 1.5, alpha_shape).astype(F32))], [p])
    up = b.tensor("up", (1, 12, 12, 4), F32)
    b.op("RESIZE_NEAREST_NEIGHBOR", [p, b.const("size", np.array([12, 12], np.int32))], [up],
         align_corners=False, half_pixel_centers=False)
    y = b.tensor("y", (1, 5, 5, 4), F32)
    b.op("RESIZE_NEAREST_NEIGHBOR", [up, b.const("size2", np.array([5, 5], np.int32))], [y],
         align_corners=False, half_pixel_centers=True)
    b.output(y)
    return b.build()


def _data(n=128):
    return np.random.default_rng(1).normal(0, 1.5, (n, 1, 6, 6, 4)).astype(F32)


@pytest.mark.parametrize("alpha_shape", [(1, 1, 4), (4,), ()])
@pytest.mark.parametrize("per_channel", [True, False])
def test_int8(alpha_shape, per_channel):
    tflm_runtime()
    model = microforge.quantize(_graph(alpha_shape), _data(), per_channel=per_channel)
    assert not model.kept_float
    assert_tflm_rules(model.graph)
    sg = model.graph.main
    prelu = next(op for op in sg.operators if op.opcode == "PRELU")
    alpha = sg.tensors[prelu.inputs[1]]
    assert alpha.size == int(np.prod(alpha_shape)) and alpha.quant.scale.size == 1
    assert assert_tflm_parity(model) == 200
    assert min(o.sqnr_db for o in model.report(_data(32)).outputs) > 25


def test_int16_activations_keep_an_int8_alpha():
    tflm_runtime()
    model = microforge.quantize(_graph(), _data(), int16_activations=True)
    assert_tflm_rules(model.graph, int16=True)
    assert model.inputs[0].dtype == np.int16
    assert assert_tflm_parity(model) == 200


@pytest.mark.slow
def test_alpha_quantized_like_the_tflite_converter():
    """A Keras PReLU (per-channel alphas) + UpSampling2D converted to int8 by the TFLite converter:
    its alpha has one scale, max |alpha| / 127, and zero point 0, as microforge's quantizer makes
    it; the converter's own int8 model runs bit-exact in microforge."""
    tf = pytest.importorskip("tensorflow", reason="needs TensorFlow (the [tf] extra)")
    # tf_keras: Keras 3 lowers UpSampling2D to reshapes and broadcasts, not RESIZE_NEAREST_NEIGHBOR
    keras = pytest.importorskip("tf_keras", reason="needs tf_keras (the [test] extra)")
    from tests.oracle import assert_tflm_parity as assert_file_parity

    alphas = np.array([0.1, -0.3, 0.7], F32)
    inp = keras.Input((4, 4, 3))
    hidden = keras.layers.PReLU(shared_axes=[1, 2],
                                alpha_initializer=keras.initializers.Constant(alphas))(inp)
    out = keras.layers.UpSampling2D(2, interpolation="nearest")(hidden)
    converter = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, out))
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    rng = np.random.default_rng(0)
    converter.representative_dataset = lambda: (
        [rng.uniform(-2, 2, (1, 4, 4, 3)).astype(F32)] for _ in range(32))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    data = converter.convert()

    theirs = microforge.load(data).graph.main
    prelu = next(op for op in theirs.operators if op.opcode == "PRELU")
    alpha = theirs.tensors[prelu.inputs[1]]
    assert alpha.dtype == np.int8 and alpha.quant.scale.size == 1 and alpha.zero_point == 0
    np.testing.assert_allclose(alpha.scale, np.abs(alphas).max() / 127, rtol=1e-6)
    assert [op.opcode for op in theirs.operators] == ["PRELU", "RESIZE_NEAREST_NEIGHBOR"]
    x = rng.integers(-128, 128, (200, 1, 4, 4, 3)).astype(np.int8)
    assert_file_parity(data, x)

    float_graph = microforge.load(_float_model(tf, keras, alphas)).graph
    assert [op.opcode for op in float_graph.main.operators] == ["PRELU"]
    ours = microforge.quantize(float_graph, rng.uniform(-2, 2, (64, 1, 4, 4, 3)).astype(F32))
    sg = ours.graph.main
    mine = sg.tensors[next(op for op in sg.operators if op.opcode == "PRELU").inputs[1]]
    assert mine.dtype == np.int8 and mine.quant.scale.size == 1 and mine.zero_point == 0
    assert np.float32(mine.scale) == np.float32(alpha.scale)
    np.testing.assert_array_equal(mine.data.reshape(-1), alpha.data.reshape(-1))


def _float_model(tf, keras, alphas) -> bytes:
    inp = keras.Input((4, 4, 3))
    hidden = keras.layers.PReLU(shared_axes=[1, 2],
                                alpha_initializer=keras.initializers.Constant(alphas))(inp)
    return tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, hidden)).convert()
