"""A trained model directory (``audio train``'s output) and its evaluation: accuracy and
confusion matrix of the int8 model through microforge's batched runtime, and scores over time."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microforge.api import Model, load
from microforge.apps.audio import FeatureExtractor, KeywordSpotter
from microforge.apps.audio.kws import unit_scores
from microforge.errors import InputError
from microforge.train.dataset import DISPLAY, features, load_clips, warmup_choice, windows

PREPROCESSOR = "preprocessor.tflite"
FLOAT_MODEL = "model_float.tflite"
INT8_MODEL = "model_int8.tflite"
KERAS_MODEL = "model.keras"
LABELS = "labels.txt"
CARD = "model_card.md"
CARD_JSON = "model_card.json"


@dataclass
class ModelDir:
    """The files of a trained model directory."""

    path: Path
    labels: list[str]
    settings: dict
    recognizer: dict  # averaging window and threshold chosen on the validation split (or {})

    @property
    def preprocessor(self) -> Path:
        return self.path / PREPROCESSOR

    @property
    def int8(self) -> Path:
        return self.path / INT8_MODEL

    def extractor(self) -> FeatureExtractor:
        return FeatureExtractor(self.preprocessor, sample_rate=self.settings.get("sample_rate", 16000),
                                stride_ms=self.settings.get("stride_ms", 20.0))

    def classifier(self) -> Model:
        return load(self.int8)


def open_model_dir(path: str | os.PathLike) -> ModelDir:
    """A directory written by ``audio train`` (labels.txt, preprocessor.tflite, model_int8.tflite)."""
    p = Path(path)
    missing = [f for f in (LABELS, PREPROCESSOR, INT8_MODEL) if not (p / f).is_file()]
    if not p.is_dir() or missing:
        raise InputError(f"{p}: not a trained model directory (missing {', '.join(missing) or 'it'}; "
                         "make one with `microforge audio train DATA -o DIR`)")
    labels = [s.strip() for s in (p / LABELS).read_text().splitlines() if s.strip()]
    card = json.loads((p / CARD_JSON).read_text()) if (p / CARD_JSON).is_file() else {}
    return ModelDir(p, labels, card.get("front_end", {}), card.get("recognizer") or {})


def predict(classifier: Model, feats: np.ndarray, batch: int = 1024) -> np.ndarray:
    """The int8 classifier's outputs for (n, frames, features) int8 features, batched."""
    shape = tuple(classifier.inputs[0].shape)
    out = [classifier.run(feats[i: i + batch].reshape((-1,) + shape[1:]))[0]
           for i in range(0, len(feats), batch)]
    return np.concatenate(out).reshape(len(feats), -1)


def confusion(truth: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    m = np.zeros((classes, classes), np.int64)
    np.add.at(m, (truth, predicted), 1)
    return m


def evaluate(model_dir: str | os.PathLike, data: str | os.PathLike,
             progress: Callable[[str, int, int], None] | None = None) -> dict:
    """Accuracy and confusion matrix (rows: truth, columns: prediction) of the int8 model on every
    clip of ``data`` whose folder is one of the model's labels; the clips/s of features + model."""
    md = open_model_dir(model_dir)
    folder_of = {v: k for k, v in DISPLAY.items()}
    classes = [folder_of.get(lab, lab) for lab in md.labels]
    present = [c for c in classes if (Path(data) / c).is_dir()]
    if not present:
        raise InputError(f"{data}: no folder named after the model's labels ({', '.join(classes)})")
    clips = load_clips(data, classes=classes,
                       progress=(lambda i, n: progress("read", i, n)) if progress else None)
    start = time.perf_counter()
    warm = warmup_choice(clips, md.settings.get("warmup_clips", 0), md.settings.get("warmup_seed", 0))
    feats = features(md.extractor(), clips.audio, warmup=warm,
                     progress=(lambda i, n: progress("features", i, n)) if progress else None)
    t_features = time.perf_counter() - start
    start = time.perf_counter()
    scores = predict(md.classifier(), feats)
    t_model = time.perf_counter() - start
    pred = scores.argmax(axis=1)
    m = confusion(clips.labels, pred, len(classes))
    n = len(clips.labels)
    return {"labels": md.labels, "clips": n, "accuracy": float((pred == clips.labels).mean()),
            "confusion": m.tolist(), "seconds_features": t_features, "seconds_model": t_model,
            "clips_per_second": n / max(t_features + t_model, 1e-9),
            "model_clips_per_second": n / max(t_model, 1e-9)}


def classify(model_dir: str | os.PathLike, wav: str | os.PathLike, hop_ms: int = 100) -> dict:
    """Scores (0..255, as the recognizer sees them) of every 1 s window of a WAV file, one every
    ``hop_ms``, from the streaming spotter's features (each window the last 49 frames)."""
    md = open_model_dir(model_dir)
    from microforge.apps.audio import read_wav

    x, _ = read_wav(wav, md.settings.get("sample_rate", 16000))
    spotter = KeywordSpotter(md.extractor(), md.int8, md.labels)
    spotter.detect(windows(x)[0] if len(x) < 16000 else x)  # at least one 1 s window
    every = max(1, int(round(hop_ms / spotter.features.stride_ms)))
    rows = [(t, unit_scores(s).tolist()) for t, s in spotter.results[::every]]
    if spotter.results and rows[-1][0] != spotter.results[-1][0]:
        t, s = spotter.results[-1]
        rows.append((t, unit_scores(s).tolist()))
    total = np.sum([r[1] for r in rows], axis=0) if rows else np.zeros(len(md.labels))
    return {"labels": md.labels, "times_ms": [r[0] for r in rows], "scores": [r[1] for r in rows],
            "top": md.labels[int(np.argmax(total))] if rows else None}
