"""Small Keras models for the Keras frontend's tests, built with Keras 3 (``keras``) and with Keras 2
(``tf_keras``) from one definition each, random weights, batch-norm statistics made non-trivial,
saved as ``.keras`` (Keras 3), ``.h5`` (Keras 3's legacy saver) and ``.h5`` (tf_keras).

:func:`save_all` writes every (model, writer) pair and returns the files with Keras's own output on
a fixed input batch (the oracle). Needs the ``[test]`` extra (keras via TensorFlow, tf_keras).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

WRITERS = ("keras3.keras", "keras3.h5", "tf_keras.h5")


def _bn(L):
    return L.BatchNormalization()


def ds_cnn(K, keras3: bool):
    """DS-CNN keyword spotter: strided conv, depthwise-separable blocks (DepthwiseConv2D + 1x1
    and SeparableConv2D) with batch norm and ReLU, dropout, global average pooling, softmax."""
    L = K.layers
    x = K.Input((49, 10, 1))
    h = L.ReLU()(_bn(L)(L.Conv2D(16, (10, 4), strides=2, padding="same", use_bias=False)(x)))
    h = L.Dropout(0.2)(h)
    h = L.ReLU()(_bn(L)(L.DepthwiseConv2D(3, padding="same")(h)))
    h = L.ReLU()(_bn(L)(L.Conv2D(16, 1)(h)))
    h = L.Activation("relu")(_bn(L)(L.SeparableConv2D(24, 3, padding="same")(h)))
    h = L.GlobalAveragePooling2D()(h)
    return K.Model(x, L.Dense(12, activation="softmax")(h), name="ds_cnn")


def mobilenet_v2(K, keras3: bool):
    """MobileNetV2-style: ReLU6 stem, inverted residual blocks (1x1 expand, depthwise, 1x1
    project, residual Add), a strided block after ZeroPadding2D, depth_multiplier 2."""
    L = K.layers
    x = K.Input((24, 24, 3))
    h = L.ReLU(6.0)(_bn(L)(L.Conv2D(8, 3, strides=2, padding="same")(x)))

    def block(h, expand, out, stride):
        e = L.ReLU(max_value=6.0)(_bn(L)(L.Conv2D(expand, 1, use_bias=False)(h)))
        if stride == 2:
            e = L.ZeroPadding2D(((0, 1), (0, 1)))(e)
        d = L.DepthwiseConv2D(3, strides=stride, padding="same" if stride == 1 else "valid",
                              use_bias=False)(e)
        d = L.Activation("relu6")(_bn(L)(d))
        p = _bn(L)(L.Conv2D(out, 1, use_bias=False)(d))
        return L.Add()([h, p]) if stride == 1 and out == h.shape[-1] else p

    h = block(h, 16, 8, 1)
    h = block(h, 24, 12, 2)
    h = block(h, 36, 12, 1)
    h = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu6")(h)
    h = L.GlobalAveragePooling2D()(h)
    return K.Model(x, L.Dense(5)(h), name="mobilenet_v2")


def audio_1d(K, keras3: bool):
    """1-D conv audio net: Conv1D (same, causal and dilated), batch norm, max / average pooling,
    a concatenation of global max and global average pooling, dense layers."""
    L = K.layers
    x = K.Input((64, 10))
    h = L.ReLU()(_bn(L)(L.Conv1D(16, 5, padding="same")(x)))
    h = L.MaxPooling1D(2)(h)
    h = L.Conv1D(16, 3, padding="causal", dilation_rate=2, activation="relu")(h)
    h = L.AveragePooling1D(2, strides=2)(h)
    h = L.Conv1D(24, 3, strides=2, activation="tanh")(h)
    h = L.Concatenate()([L.GlobalMaxPooling1D()(h), L.GlobalAveragePooling1D()(h)])
    h = L.Dense(16, activation="relu")(h)
    return K.Model(x, L.Dense(6, activation="softmax")(h), name="audio_1d")


def resnet8(K, keras3: bool):
    """ResNet-8 (MLPerf Tiny shape, narrower): stem, three residual stacks (the second and third
    strided with 1x1 projection shortcuts), average pooling, flatten, dense."""
    L = K.layers
    x = K.Input((32, 32, 3))
    h = L.ReLU()(_bn(L)(L.Conv2D(8, 3, padding="same")(x)))
    for filters, stride in ((8, 1), (16, 2), (24, 2)):
        r = L.ReLU()(_bn(L)(L.Conv2D(filters, 3, strides=stride, padding="same")(h)))
        r = _bn(L)(L.Conv2D(filters, 3, padding="same")(r))
        s = h if stride == 1 else L.Conv2D(filters, 1, strides=stride)(h)
        h = L.ReLU()(L.Add()([r, s]))
    h = L.Flatten()(L.AveragePooling2D(pool_size=8)(h))
    return K.Model(x, L.Dense(10, activation="softmax")(h), name="resnet8")


def autoencoder(K, keras3: bool):
    """Dense autoencoder (anomaly detection shape), Sequential, with batch norm after ReLU
    (MUL / ADD, not foldable) and a sigmoid output."""
    L = K.layers
    return K.Sequential([
        K.Input((64,)),
        L.Dense(32, activation="relu"), _bn(L),
        L.Dense(8, activation="relu"),
        L.Dense(32), _bn(L), L.ReLU(),
        L.Dense(64, activation="sigmoid"),
    ], name="autoencoder")


def lstm(K, keras3: bool):
    """Two stacked LSTMs (sequences, then the last step) and a dense softmax."""
    L = K.layers
    return K.Sequential([
        K.Input((12, 8)),
        L.LSTM(16, return_sequences=True),
        L.LSTM(10),
        L.Dense(4, activation="softmax"),
    ], name="lstm")


def zoo(K, keras3: bool):
    """The remaining layers and activations: LeakyReLU, ReLU with max_value / negative_slope,
    Softmax, Multiply, Subtract, Reshape, Dense on 3-D input, GlobalMaxPooling2D(keepdims),
    ZeroPadding1D, sigmoid / swish / hard_sigmoid (/ hard_swish in Keras 3)."""
    L = K.layers
    x = K.Input((8, 8, 4))
    a = L.LeakyReLU(0.1)(L.Conv2D(6, 3, padding="same", dilation_rate=2)(x))
    b = L.ReLU(max_value=4.0, negative_slope=0.2)(L.Conv2D(6, 1, activation="swish")(x))
    m = L.Multiply()([a, L.Activation("sigmoid")(b)])
    s = L.Subtract()([m, L.Activation("hard_sigmoid")(b)])
    g = L.GlobalMaxPooling2D(keepdims=True)(s)
    r = L.Reshape((2, 3))(g)
    d = L.Dense(5, activation="hard_swish" if keras3 else "tanh")(r)
    p = L.ZeroPadding1D((1, 2))(d)
    out = L.Softmax()(L.Flatten()(p))
    return K.Model(x, out, name="zoo")


# name -> (builder, input shape)
MODELS: dict[str, tuple[Any, tuple[int, ...]]] = {
    "ds_cnn": (ds_cnn, (49, 10, 1)),
    "mobilenet_v2": (mobilenet_v2, (24, 24, 3)),
    "audio_1d": (audio_1d, (64, 10)),
    "resnet8": (resnet8, (32, 32, 3)),
    "autoencoder": (autoencoder, (64,)),
    "lstm": (lstm, (12, 8)),
    "zoo": (zoo, (8, 8, 4)),
}


@dataclass
class Saved:
    """One saved model: its file, the in-memory Keras model, inputs and Keras's outputs."""

    name: str
    writer: str
    path: Path
    keras_model: Any
    x: np.ndarray
    want: np.ndarray


def _frameworks():
    import keras
    import tf_keras

    return {"keras3": keras, "tf_keras": tf_keras}


def _randomize_batch_norms(model, rng: np.random.Generator) -> None:
    """Non-trivial inference statistics: gamma, beta, moving mean and variance drawn at random."""
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            gamma, beta, mean, var = layer.get_weights()
            n = gamma.shape
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.3, n),
                               rng.normal(0, 0.3, n), rng.uniform(0.5, 2.0, n)])


def inputs(name: str, n: int = 8, seed: int = 0) -> np.ndarray:
    shape = MODELS[name][1]
    return np.random.default_rng([seed, len(name)]).normal(size=(n,) + shape).astype(np.float32)


def build(name: str, framework: str):
    """The model ``name`` built (seeded) with ``framework`` ("keras3" or "tf_keras")."""
    K = _frameworks()[framework]
    K.utils.set_random_seed(7)
    model = MODELS[name][0](K, framework == "keras3")
    _randomize_batch_norms(model, np.random.default_rng(11))
    return model


def save_all(directory: Path, names: tuple[str, ...] = tuple(MODELS)) -> dict[tuple[str, str], Saved]:
    """Every model written by every writer of ``WRITERS`` into ``directory``."""
    saved: dict[tuple[str, str], Saved] = {}
    for name in names:
        x = inputs(name)
        for framework in ("keras3", "tf_keras"):
            model = build(name, framework)
            want = np.asarray(model.predict(x, verbose=0))
            for writer in WRITERS:
                if writer.startswith(framework + "."):
                    path = directory / f"{name}.{writer}"
                    model.save(path)
                    saved[(name, writer)] = Saved(name, writer, path, model, x, want)
    return saved
