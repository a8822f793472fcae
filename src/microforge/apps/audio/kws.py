"""Keyword spotting on streaming audio: features -> sliding window -> classifier -> command
recognizer (posterior averaging, threshold, suppression), as TFLM's micro_speech example."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from microforge.api import Model
from microforge.apps.audio.features import FeatureExtractor, FeatureStream, as_model
from microforge.errors import InputError, ModelError


class Detection(NamedTuple):
    """A recognised keyword: its label, its averaged score (0..255) and where it was heard:
    ``time_ms`` (from the start of the stream) is the middle of the averaging window whose
    results triggered the detection. The recognizer fires at the end of that window, i.e. at
    ``time_ms + average_window_ms / 2`` (micro_speech reports that instant)."""

    label: str
    score: int
    time_ms: int


def unit_scores(scores: np.ndarray) -> np.ndarray:
    """Classifier outputs on micro_speech's 0..255 scale: int8 + 128, uint8 as is, float
    probabilities ``floor(p * 256)`` clamped to 0..255. Returns int64."""
    scores = np.asarray(scores)
    if scores.dtype == np.int8:
        return scores.astype(np.int64) + 128
    if scores.dtype == np.uint8:
        return scores.astype(np.int64)
    if scores.dtype.kind == "f":
        return np.clip(np.floor(scores.astype(np.float64) * 256), 0, 255).astype(np.int64)
    raise ModelError(f"classifier output of type {scores.dtype.name} (int8, uint8 or float needed)")


class CommandRecognizer:
    """micro_speech's ``RecognizeCommands``: keeps the results of the last
    ``average_window_ms``; with at least ``minimum_count`` of them spanning at least a quarter of
    that window, averages each label's score (integer division), takes the first label with the
    highest average and reports it as a new command when its average exceeds
    ``detection_threshold`` and it differs from the previous command or the previous one (unless
    it was label 0, "silence") is more than ``suppression_ms`` old."""

    def __init__(self, labels: Sequence[str], average_window_ms: int = 1000,
                 detection_threshold: int = 200, suppression_ms: int = 1500,
                 minimum_count: int = 3) -> None:
        self.labels = list(labels)
        self.average_window_ms = int(average_window_ms)
        self.detection_threshold = int(detection_threshold)
        self.suppression_ms = int(suppression_ms)
        self.minimum_count = int(minimum_count)
        self.reset()

    def reset(self) -> None:
        self._results: deque[tuple[int, np.ndarray]] = deque()
        self.previous_label = self.labels[0]
        self.previous_time: int | None = None

    def process(self, scores: np.ndarray, time_ms: int) -> tuple[str, int, bool]:
        """Feed one result (scores on the 0..255 scale); returns (label, score, is_new)."""
        if self._results and time_ms < self._results[0][0]:
            raise InputError(f"results must come in time order ({time_ms} ms after "
                             f"{self._results[0][0]} ms)")
        self._results.append((int(time_ms), np.asarray(scores, np.int64)))
        limit = time_ms - self.average_window_ms
        while self._results and self._results[0][0] < limit:
            self._results.popleft()
        count = len(self._results)
        if count < self.minimum_count or time_ms - self._results[0][0] < self.average_window_ms // 4:
            return self.previous_label, 0, False
        average = sum(s for _, s in self._results) // count
        top = int(np.argmax(average)) if average.max() > 0 else 0
        top_score, label = int(average[top]), self.labels[top]
        if self.previous_label == self.labels[0] or self.previous_time is None:
            since = np.iinfo(np.int32).max
        else:
            since = time_ms - self.previous_time
        new = top_score > self.detection_threshold and (
            label != self.previous_label or since > self.suppression_ms)
        if new:
            self.previous_label, self.previous_time = label, int(time_ms)
        return label, top_score, new


class KeywordSpotter:
    """Keyword spotting on a stream of int16 audio.

    Every new feature frame (one per stride of the ``feature_extractor``) completes a window of
    the last N frames (N = classifier input size / features per frame, 49 for micro_speech);
    each window is classified (all windows of one ``push`` in one batch), and the scores go
    through a :class:`CommandRecognizer`. ``push`` returns the new :class:`Detection` events;
    labels in ``ignore`` (by default "silence" and "unknown") are tracked but not reported.

    Features and classifier inputs must have the same type, or float features are quantized
    with the classifier input's scale and zero point (truncating, as micro_speech's
    ``evaluate.py``, then clamped).
    """

    def __init__(self, feature_extractor: FeatureExtractor,
                 model: Model | str | os.PathLike | bytes, labels: Sequence[str], *,
                 average_window_ms: int = 1000, detection_threshold: int = 200,
                 suppression_ms: int = 1500, minimum_count: int = 3,
                 ignore: Iterable[str] = ("silence", "unknown", "_silence_", "_unknown_")) -> None:
        self.features = feature_extractor
        self.model = as_model(model)
        self.labels = list(labels)
        if len(self.model.inputs) != 1 or len(self.model.outputs) != 1:
            raise ModelError("the classifier must have one input and one output")
        inp, out = self.model.inputs[0], self.model.outputs[0]
        size = int(np.prod(inp.shape))
        per_frame = feature_extractor.num_features
        if size % per_frame:
            raise ModelError(f"the classifier input holds {size} values, not a whole number of "
                             f"{per_frame}-feature frames")
        self.window_frames = size // per_frame
        if int(np.prod(out.shape)) != len(self.labels):
            raise InputError(f"{len(self.labels)} labels given for {int(np.prod(out.shape))} "
                             "classifier outputs")
        if np.dtype(inp.dtype) != feature_extractor.dtype and not (
                feature_extractor.dtype.kind == "f" and np.dtype(inp.dtype).kind == "i"):
            raise ModelError(f"features are {feature_extractor.dtype.name} but the classifier "
                             f"takes {np.dtype(inp.dtype).name}")
        self.ignore = set(ignore)
        self.recognizer = CommandRecognizer(self.labels, average_window_ms, detection_threshold,
                                            suppression_ms, minimum_count)
        self._half_window = int(average_window_ms) // 2
        self._stream: FeatureStream = feature_extractor.stream()
        self.reset()

    def reset(self) -> None:
        """Start a new stream: no audio, no features, no past results."""
        self._stream.reset()
        self.recognizer.reset()
        self._frames = np.empty((0, self.features.num_features), self.features.dtype)
        self.results: list[tuple[int, np.ndarray]] = []
        """(time_ms, scores) of every classified window since the reset; scores as the
        classifier outputs them."""

    def classify(self, features: np.ndarray) -> np.ndarray:
        """Classifier outputs for feature windows ``(..., window_frames, features)``, batched."""
        f = np.asarray(features)
        lead = f.shape[:-2]
        if f.shape[-2:] != (self.window_frames, self.features.num_features):
            raise InputError(f"feature windows must be ({self.window_frames}, "
                             f"{self.features.num_features}), got {list(f.shape[-2:])}")
        inp = self.model.inputs[0]
        x = self._to_input(f.reshape((-1,) + tuple(inp.shape)))
        out = self.model.run(x)[0]
        return out.reshape(lead + (len(self.labels),))

    def _to_input(self, f: np.ndarray) -> np.ndarray:
        inp = self.model.inputs[0]
        dtype = np.dtype(inp.dtype)
        if f.dtype == dtype:
            return f
        info = np.iinfo(dtype)
        q = np.trunc(f.astype(np.float32) / np.float32(inp.scale) + inp.zero_point)
        return np.clip(np.nan_to_num(q), info.min, info.max).astype(dtype)

    def window_time_ms(self, frame: int) -> int:
        """Stream time (ms) at the end of feature frame ``frame`` (0-based)."""
        fx = self.features
        return (frame * fx.stride + fx.window) * 1000 // fx.sample_rate

    def push(self, samples: Any) -> list[Detection]:
        """Feed 1-D int16 samples (any length); returns the keywords detected in them."""
        new = self._stream.push(samples)
        if new.ndim != 2:
            raise InputError("KeywordSpotter takes one stream: push 1-D sample arrays")
        n, first = self.window_frames, self._stream.frames - new.shape[0]
        frames = np.concatenate([self._frames, new])
        ends = np.arange(max(first, n - 1), self._stream.frames)  # frames that complete a window
        events = []
        if ends.size:
            last = len(self._frames) + ends - first  # their positions in `frames`
            scores = self.classify(frames[last[:, None] + np.arange(1 - n, 1)])
            for k, s in zip(ends.tolist(), scores):
                t = self.window_time_ms(k)
                self.results.append((t, s))
                label, score, is_new = self.recognizer.process(unit_scores(s), t)
                if is_new and label not in self.ignore:
                    events.append(Detection(label, score, max(0, t - self._half_window)))
        self._frames = frames[max(0, len(frames) - (n - 1)):]
        return events

    def detect(self, audio: Any) -> list[Detection]:
        """Keywords in a whole recording (1-D int16), from a fresh stream."""
        self.reset()
        return self.push(audio)
