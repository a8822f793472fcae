"""The Keras side of training (the optional ``train`` extra: Keras 3 on TensorFlow): the model
architectures and the fit with early stopping. Only this module imports Keras, lazily."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from microforge.errors import InputError, ToolError

ARCHS = ("ds-cnn", "cnn")


def keras() -> Any:
    """Keras 3 (TensorFlow backend unless KERAS_BACKEND says otherwise), or a one-line error."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    saved = os.dup(2)
    try:  # TensorFlow's C++ side logs to fd 2 at import (CUDA probing): keep one-line output
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import keras as k
    except ImportError:
        raise ToolError("audio train needs Keras and TensorFlow: pip install 'microforge[train]'") from None
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    if int(k.__version__.split(".")[0]) < 3:
        raise ToolError(f"audio train needs Keras 3, found {k.__version__}: pip install 'microforge[train]'")
    return k


def build(arch: str, input_shape: tuple[int, int], classes: int, width: int = 32) -> Any:
    """A keyword model on (frames, features) int8 features given as floats.

    The input is the int8 feature divided by 128 (the int8 model then takes the features
    unchanged: input scale 1/128, zero point 0).
    ``cnn``: two strided convolutions and a dense layer (the size of micro_speech's ``conv``).
    ``ds-cnn``: the structure of MLPerf Tiny's DS-CNN (a 10x4 stride-2 convolution, four
    depthwise-separable blocks, global average pooling), ``width`` channels (32 by default: a
    quarter of the MACs of 64 on the 40 features of this front end). Batch norms follow bias-free
    convolutions so microforge's Keras reader folds them."""
    k = keras()
    L = k.layers
    inp = k.Input((*input_shape, 1), name="features")
    if arch == "cnn":
        x = L.Conv2D(8, (10, 8), strides=(2, 2), padding="same", activation="relu")(inp)
        x = L.Dropout(0.2)(x)
        x = L.Conv2D(16, (5, 4), strides=(2, 2), padding="same", activation="relu")(x)
        x = L.Dropout(0.2)(x)
        x = L.Flatten()(x)
    elif arch == "ds-cnn":
        x = L.Conv2D(width, (10, 4), strides=(2, 2), padding="same", use_bias=False)(inp)
        x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
        x = L.Dropout(0.2)(x)
        for _ in range(4):
            x = L.DepthwiseConv2D((3, 3), padding="same", use_bias=False)(x)
            x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
            x = L.Conv2D(width, (1, 1), use_bias=False)(x)
            x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))
        x = L.Dropout(0.4)(x)
        x = L.GlobalAveragePooling2D()(x)
    else:
        raise InputError(f"--arch {arch!r}: one of {', '.join(ARCHS)}")
    out = L.Dense(classes, activation="softmax", name="scores")(x)
    return k.Model(inp, out, name=arch.replace("-", "_"))


def fit(arch: str, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
        classes: int, *, epochs: int = 30, batch_size: int = 32, seed: int = 0, patience: int = 8,
        learning_rate: float = 2e-3,
        log: Callable[[str], None] | None = None) -> tuple[Any, list[dict]]:
    """(``x_*``: features already scaled, see :func:`build`.)"""
    """Train with Adam (``learning_rate``, halved after ``patience // 2`` epochs without progress),
    keeping the weights of the best validation loss (early stopping after
    ``patience`` epochs without improvement). Returns the model and the per-epoch history."""
    k = keras()
    k.utils.set_random_seed(seed)
    model = build(arch, x_train.shape[1:3], classes)
    model.compile(optimizer=k.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history: list[dict] = []
    started = time.perf_counter()

    class Progress(k.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = {key: float(v) for key, v in (logs or {}).items()}
            history.append({"epoch": epoch + 1, **logs})
            if log:
                log(f"epoch {epoch + 1}/{epochs}: loss {logs.get('loss', 0):.3f} accuracy "
                    f"{logs.get('accuracy', 0):.3f}, validation loss {logs.get('val_loss', 0):.3f} "
                    f"accuracy {logs.get('val_accuracy', 0):.3f} ({time.perf_counter() - started:.0f} s)")

    validation = (x_val[..., None].astype(np.float32), y_val) if len(x_val) else None
    monitor = "val_loss" if validation else "loss"
    callbacks = [Progress(), k.callbacks.EarlyStopping(monitor=monitor, patience=patience,
                                                       restore_best_weights=True),
                 k.callbacks.ReduceLROnPlateau(monitor=monitor, factor=0.5, patience=max(2, patience // 2))]
    model.fit(x_train[..., None].astype(np.float32), y_train, validation_data=validation,
              epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0, callbacks=callbacks)
    return model, history
