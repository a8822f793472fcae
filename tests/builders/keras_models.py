"""Small float Keras models for the quantizer's tests and benchmark, trained briefly (10 epochs of
512 samples) on synthetic data so that they classify it and their activation ranges are realistic,
and converted to float .tflite with the TFLite converter (microforge's input).

Each builder returns a Keras model; :func:`make` trains and converts it.
Needs TensorFlow (the ``[tf]`` extra).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# Training is short (10 epochs of 8 batches). With Keras's default batch-norm momentum 0.99 the
# moving statistics keep 0.99**80 = 45% of their initial values and the inference-mode ds_cnn stays
# near chance (8% to 12% on 12 classes, softmax margins below the int8 output step); with Adam at
# 3e-3 it reaches 55% in 10 epochs, at 1e-2 about 70% (the other three models 96% to 100%).
BN_MOMENTUM = 0.9
EPOCHS = 10
LEARNING_RATE = 1e-2


def _layers():
    from tensorflow import keras

    return keras, keras.layers


def _bn():
    """A batch-norm layer whose moving statistics converge within the short training."""
    _, L = _layers()
    return L.BatchNormalization(momentum=BN_MOMENTUM)


def _data(shape: tuple[int, ...], classes: int, n: int, seed: int,
          draw: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy copies of smooth per-class prototypes (so a small network can learn them); ``seed``
    fixes the prototypes (the task), ``draw`` the samples."""
    protos = np.random.default_rng(seed).normal(size=(classes,) + shape)
    rng = np.random.default_rng([seed, draw + 1])
    for axis in range(len(shape) - 1):  # smooth along the spatial axes
        protos = (protos + np.roll(protos, 1, axis=axis + 1) + np.roll(protos, -1, axis=axis + 1)) / 3
    y = rng.integers(0, classes, n)
    x = protos[y] * rng.uniform(0.5, 2.0, (n,) + (1,) * len(shape)) + 0.7 * rng.normal(
        size=(n,) + shape)
    return x.astype(np.float32), y


def small_cnn():
    """conv + batch-norm + ReLU, depthwise conv (ReLU6), 1x1 conv, add, concatenation, max and
    average pooling, flatten, dense + batch-norm, dense + softmax."""
    keras, L = _layers()
    x = keras.Input((16, 16, 3))
    a = L.ReLU()(_bn()(L.Conv2D(8, 3, padding="same")(x)))
    b = L.DepthwiseConv2D(3, padding="same", activation="relu6")(a)
    c = L.Conv2D(8, 1)(a)
    d = L.Concatenate()([L.Add()([b, c]), a])
    e = L.AveragePooling2D(2)(L.MaxPooling2D()(d))
    f = _bn()(L.Dense(16, activation="relu")(L.Flatten()(e)))
    out = L.Dense(4, activation="softmax")(f)
    return keras.Model(x, out, name="small_cnn")


def ds_cnn():
    """DS-CNN keyword-spotting shape: 49x10 MFCC input, strided conv, depthwise-separable blocks
    with batch-norm, global average pooling, dense + softmax (12 classes)."""
    keras, L = _layers()
    x = keras.Input((49, 10, 1))
    h = L.ReLU()(_bn()(L.Conv2D(16, (10, 4), strides=2, padding="same")(x)))
    for _ in range(2):
        h = L.ReLU()(_bn()(L.DepthwiseConv2D(3, padding="same")(h)))
        h = L.ReLU()(_bn()(L.Conv2D(16, 1)(h)))
    h = L.GlobalAveragePooling2D()(h)
    out = L.Dense(12, activation="softmax")(h)
    return keras.Model(x, out, name="ds_cnn")


def tiny_resnet():
    """A tiny ResNet: stem conv, two residual blocks (the second strided, 1x1 projection
    shortcut), batch-norm everywhere, global average pooling, dense + softmax."""
    keras, L = _layers()
    x = keras.Input((16, 16, 3))
    h = L.ReLU()(_bn()(L.Conv2D(8, 3, padding="same")(x)))
    for filters, stride in ((8, 1), (16, 2)):
        r = L.ReLU()(_bn()(L.Conv2D(filters, 3, strides=stride, padding="same")(h)))
        r = _bn()(L.Conv2D(filters, 3, padding="same")(r))
        s = h if stride == 1 else _bn()(L.Conv2D(filters, 1, strides=stride)(h))
        h = L.ReLU()(L.Add()([r, s]))
    h = L.GlobalAveragePooling2D()(h)
    out = L.Dense(5, activation="softmax")(h)
    return keras.Model(x, out, name="tiny_resnet")


def mlp_tanh():
    """Dense layers with tanh and sigmoid activations, a batch-norm on a non-layer output (kept as
    MUL/ADD) and two outputs: a sigmoid score and a softmax."""
    keras, L = _layers()
    x = keras.Input((20,))
    h = L.Dense(24, activation="tanh")(x)
    h = _bn()(L.Add()([h, L.Dense(24)(x)]))
    p = L.Dense(3, activation="softmax", name="probs")(h)
    s = L.Dense(1, activation="sigmoid", name="score")(h)
    return keras.Model(x, [p, s], name="mlp_tanh")


def mobilenet_v1():
    """MobileNetV1 shape at width 0.25 on 32x32 inputs: strided stem conv, depthwise-separable
    blocks (depthwise 3x3 + batch-norm + ReLU6, pointwise 1x1 + batch-norm + ReLU6, two strided),
    global average pooling, dense + softmax (10 classes)."""
    keras, L = _layers()
    x = keras.Input((32, 32, 3))
    h = L.ReLU(6.0)(_bn()(L.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(x)))
    for filters, stride in ((16, 1), (32, 2), (32, 1), (64, 2), (64, 1)):
        h = L.ReLU(6.0)(_bn()(L.DepthwiseConv2D(3, strides=stride, padding="same",
                                                use_bias=False)(h)))
        h = L.ReLU(6.0)(_bn()(L.Conv2D(filters, 1, use_bias=False)(h)))
    h = L.GlobalAveragePooling2D()(h)
    out = L.Dense(10, activation="softmax")(h)
    return keras.Model(x, out, name="mobilenet_v1")


def resnet8():
    """MLPerf Tiny's ResNet-8 (image classification) on 32x32x3: stem conv 16, three residual
    stacks of 16, 32 (strided) and 64 (strided) filters with 1x1 projection shortcuts,
    batch-norm, residual ADDs, average pooling, dense + softmax (10 classes)."""
    keras, L = _layers()
    x = keras.Input((32, 32, 3))
    h = L.ReLU()(_bn()(L.Conv2D(16, 3, padding="same")(x)))
    for filters, stride in ((16, 1), (32, 2), (64, 2)):
        r = L.ReLU()(_bn()(L.Conv2D(filters, 3, strides=stride, padding="same")(h)))
        r = _bn()(L.Conv2D(filters, 3, padding="same")(r))
        s = h if stride == 1 else L.Conv2D(filters, 1, strides=stride)(h)
        h = L.ReLU()(L.Add()([r, s]))
    h = L.Flatten()(L.AveragePooling2D(8)(h))
    out = L.Dense(10, activation="softmax")(h)
    return keras.Model(x, out, name="resnet8")


def autoencoder():
    """MLPerf Tiny's anomaly-detection shape, narrowed: a dense autoencoder 128 -> 64 -> 32 -> 8
    -> 32 -> 64 -> 128 with batch-norm and ReLU, a linear reconstruction output (no classes)."""
    keras, L = _layers()
    x = keras.Input((128,))
    h = x
    for units in (64, 32, 8, 32, 64):
        h = L.ReLU()(_bn()(L.Dense(units)(h)))
    out = L.Dense(128)(h)
    return keras.Model(x, out, name="autoencoder")


def lstm_kws(batch_size: int | None = None):
    """A keyword-spotting LSTM: 49 frames of 10 MFCCs, one LSTM of 32 units (its last output),
    dense + softmax (12 classes). Built with tf_keras (Keras 2), whose LSTM the TFLite converter
    fuses into UNIDIRECTIONAL_SEQUENCE_LSTM (Keras 3's becomes a WHILE loop), and converted from
    a batch-1 copy (the fused LSTM needs a static batch)."""
    import tf_keras as keras

    L = keras.layers
    x = keras.Input((49, 10), batch_size=batch_size)
    h = L.LSTM(32)(x)
    out = L.Dense(12, activation="softmax")(h)
    return keras.Model(x, out, name="lstm_kws")


# name -> (builder, input shape, classes, data seed)
BUILDERS = {
    "small_cnn": (small_cnn, (16, 16, 3), 4, 1),
    "ds_cnn": (ds_cnn, (49, 10, 1), 12, 2),
    "tiny_resnet": (tiny_resnet, (16, 16, 3), 5, 3),
    "mlp_tanh": (mlp_tanh, (20,), 3, 4),
}
# the models issue 18 names for the quantization benchmark (ds_cnn is above)
MORE = {
    "mobilenet_v1": (mobilenet_v1, (32, 32, 3), 10, 5),
    "resnet8": (resnet8, (32, 32, 3), 10, 6),
    "autoencoder": (autoencoder, (128,), 4, 7),
    "lstm_kws": (lstm_kws, (49, 10), 12, 8),
}
ALL = {**BUILDERS, **MORE}
RECONSTRUCTION = {"autoencoder"}  # trained to reproduce the input (mean squared error)
FIXED_BATCH = {"lstm_kws"}  # converted from a batch-1 copy of the trained model
TF_KERAS = {"lstm_kws"}  # built and trained with tf_keras (Keras 2)


@dataclass
class Trained:
    name: str
    keras_model: object
    export_model: object  # what the TFLite converter converts (keras_model or a batch-1 copy)
    float_tflite: bytes
    train_x: np.ndarray  # calibration / representative data (256 samples)
    test_x: np.ndarray  # held-out inputs of the same distribution


def make(name: str, epochs: int = EPOCHS, seed: int = 0, held_out: int = 1024) -> Trained:
    """Build, train briefly (``epochs`` over 512 samples, batches of 64) and convert one model to
    float .tflite; ``held_out`` fresh samples of the same distribution come with it."""
    import tensorflow as tf

    if name in TF_KERAS:
        import tf_keras as keras
    else:
        from tensorflow import keras

    build, shape, classes, data_seed = ALL[name]
    keras.utils.set_random_seed(seed)
    model = build()
    x, y = _data(shape, classes, 512, data_seed)
    if name in RECONSTRUCTION:
        losses, targets = "mse", x
    elif len(model.outputs) == 1:
        losses, targets = "sparse_categorical_crossentropy", y
    else:
        losses = ["sparse_categorical_crossentropy", "binary_crossentropy"]
        targets = [y, (y == 0).astype(np.float32)]
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss=losses)
    model.fit(x, targets, epochs=epochs, batch_size=64, verbose=0)
    export = model
    if name in FIXED_BATCH:
        export = build(batch_size=1)
        export.set_weights(model.get_weights())
    data = tf.lite.TFLiteConverter.from_keras_model(export).convert()
    test_x, _ = _data(shape, classes, held_out, data_seed, draw=1)
    return Trained(name, model, export, data, x[:256], test_x)
