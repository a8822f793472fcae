"""Feature extraction: a preprocessor model (e.g. TFLM micro_speech's audio_preprocessor_int8)
run over audio frame by frame with its state, batched over clips."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from microforge.api import Model, load
from microforge.errors import InputError, ModelError
from microforge.runtime.interpreter import Executor


def as_model(source: Model | str | os.PathLike | bytes) -> Model:
    """A :class:`Model` from a model, a path or the bytes of a ``.tflite`` file."""
    return source if isinstance(source, Model) else load(source)


def as_pcm(audio: Any, what: str = "audio") -> np.ndarray:
    """int16 PCM as an array: 1-D (one clip) or 2-D (clips of equal length)."""
    if isinstance(audio, (list, tuple)) and audio and all(isinstance(a, np.ndarray) for a in audio):
        if len({a.shape for a in audio}) != 1:
            raise InputError(f"{what}: clips of different lengths; pad or trim them to one length")
        audio = np.stack(audio)
    x = np.asarray(audio)
    if x.dtype != np.int16:
        raise InputError(
            f"{what} must be int16 PCM samples, got {x.dtype.name} (scale float audio in [-1, 1] "
            "by 32768 and convert with np.clip(...).astype(np.int16))"
        )
    if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[0] == 0):
        raise InputError(f"{what} must be 1-D (one clip) or 2-D (clips), got shape {list(x.shape)}")
    return x


class FeatureExtractor:
    """Runs a preprocessor model over audio: one window of ``window`` samples (the model's input
    size) every ``stride`` samples, each through the model in turn, keeping the model's state
    (noise estimates) across the frames of a clip, as TFLM's micro_speech does.

    ``preprocessor`` is a :class:`microforge.Model`, a path or bytes of a ``.tflite`` file whose
    single input holds one int16 window. microforge ships no preprocessor: use the one the
    classifier was trained with (micro_speech's ``audio_preprocessor_int8.tflite`` from the
    tflite-micro repository for its model).

    ``extract`` processes whole clips, all clips of a batch at once (each row has its own state,
    reset at the start); ``stream`` returns a :class:`FeatureStream` for audio arriving in pieces.
    Features are exactly what TFLM computes frame by frame with the same model.
    """

    def __init__(self, preprocessor: Model | str | os.PathLike | bytes, sample_rate: int = 16000,
                 stride_ms: float = 20.0) -> None:
        self.model = as_model(preprocessor)
        if len(self.model.inputs) != 1 or not self.model.outputs:
            raise ModelError("a preprocessor model has one input (a window of int16 samples)")
        info = self.model.inputs[0]
        if np.dtype(info.dtype) != np.int16:
            raise ModelError(f"the preprocessor input is {np.dtype(info.dtype).name}, not int16 PCM")
        self.window = int(np.prod(info.shape))
        self.sample_rate = int(sample_rate)
        stride = stride_ms * self.sample_rate / 1000.0
        if sample_rate <= 0 or stride <= 0 or abs(stride - round(stride)) > 1e-9:
            raise InputError(f"stride of {stride_ms} ms at {sample_rate} Hz is not a whole number "
                             "of samples")
        self.stride = int(round(stride))
        out = self.model.outputs[0]
        self.num_features = int(np.prod(out.shape))
        self.dtype = np.dtype(out.dtype)
        self.output = out

    @property
    def window_ms(self) -> float:
        return 1000.0 * self.window / self.sample_rate

    @property
    def stride_ms(self) -> float:
        return 1000.0 * self.stride / self.sample_rate

    def num_frames(self, samples: int) -> int:
        """Frames in a clip of ``samples`` samples (whole windows only)."""
        return 0 if samples < self.window else 1 + (samples - self.window) // self.stride

    def extract(self, audio: Any) -> np.ndarray:
        """Features of whole clips: int16 ``(n,)`` -> ``(frames, features)``, ``(clips, n)`` ->
        ``(clips, frames, features)``. Each clip starts from the model's initial state."""
        x = as_pcm(audio)
        single = x.ndim == 1
        x = x[None] if single else x
        executor = Executor(self.model.graph)
        out = _run_frames(executor, self, x, self.num_frames(x.shape[1]))
        return out[0] if single else out

    def stream(self) -> FeatureStream:
        """A new stream (its own model state) for audio arriving in pieces."""
        return FeatureStream(self)


def _run_frames(executor: Executor, fx: FeatureExtractor, x: np.ndarray,
                frames: int) -> np.ndarray:
    """Features of ``frames`` consecutive windows of every row of ``x``, state carried along
    (the executor runs all frames operator by operator; see ``Executor.run_sequence``)."""
    rows = x.shape[0]
    if frames == 0:
        return np.empty((rows, 0, fx.num_features), fx.dtype)
    starts = np.arange(frames) * fx.stride
    windows = x[:, starts[:, None] + np.arange(fx.window)]
    shape = tuple(fx.model.inputs[0].shape)
    out = executor.run_sequence([windows.reshape((rows, frames) + shape)])[0]
    return out.reshape(rows, frames, fx.num_features)


class FeatureStream:
    """Feature extraction over audio pushed in pieces of any length: ``push`` returns the
    features of the windows completed so far; the samples of an incomplete window are kept.
    1-D pushes are one stream; 2-D pushes ``(streams, m)`` advance several streams together."""

    def __init__(self, extractor: FeatureExtractor) -> None:
        self.extractor = extractor
        self.executor = Executor(extractor.model.graph)
        self.reset()

    def reset(self) -> None:
        """Forget buffered samples and the preprocessor's state."""
        self.executor.reset()
        self._pending: np.ndarray | None = None
        self.frames = 0

    def push(self, samples: Any) -> np.ndarray:
        """Append samples; returns the new features, ``(k, features)`` (or ``(streams, k,
        features)`` for 2-D pushes), k >= 0."""
        x = as_pcm(samples, "samples")
        single = x.ndim == 1
        x = x[None] if single else x
        if self._pending is not None:
            if self._pending.shape[0] != x.shape[0]:
                raise InputError(f"this stream has {self._pending.shape[0]} rows, got "
                                 f"{x.shape[0]}; call reset() first")
            x = np.concatenate([self._pending, x], axis=1)
        fx = self.extractor
        k = fx.num_frames(x.shape[1])
        out = _run_frames(self.executor, fx, x, k)
        self._pending = x[:, k * fx.stride :]
        self.frames += k
        return out[0] if single else out
