"""``microforge audio train``: data -> micro_speech features -> Keras fit (speaker-held-out split,
early stopping) -> float .tflite through microforge's Keras reader -> int8 by microforge's
quantizer (calibrated on training features) -> compile estimates -> model card."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from microforge.api import load, quantize, save
from microforge.apps.audio import FeatureExtractor
from microforge.compiler import compile as compile_model
from microforge.errors import InputError, ModelError
from microforge.train.augment import context_windows
from microforge.train.card import write_card
from microforge.train.dataset import SPECIAL, Clips, class_folders, features, load_clips, split, warmup_choice
from microforge.train.evaluate import (
    FLOAT_MODEL,
    INT8_MODEL,
    KERAS_MODEL,
    LABELS,
    PREPROCESSOR,
    confusion,
    predict,
)
from microforge.train.tune import tune

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


SCALE = 128.0  # the model sees int8 feature / 128; its int8 input: scale 1/128, zero point 0


def calibration_set(x_train: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` training inputs, plus one spanning -128/128..127/128 so the int8 input gets
    scale 1/128 and zero point 0: the classifier then takes the front end's int8 features as
    they are (micro_speech's contract; the C app copies them unchanged)."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(x_train), size=min(count, len(x_train)), replace=False)
    span = np.full(x_train.shape[1:], -1.0, np.float32)
    span.reshape(-1)[::2] = 127.0 / SCALE
    return np.concatenate([x_train[pick].astype(np.float32), span[None]])[..., None]


def estimates(int8_path: Path, target: str = "cortex-m4") -> dict:
    """RAM, flash and instruction figures from ``compile`` for ``target`` (and the host's plan)."""
    with tempfile.TemporaryDirectory(prefix="microforge-card-") as tmp:
        report = compile_model(int8_path, Path(tmp) / "lib", name="kws_model", target=target)
    d = report.to_dict()
    keep = ("target", "arena_bytes", "ram_bytes", "const_bytes", "code_bytes", "flash_bytes",
            "macs", "static_ram_bytes", "stack_bytes_estimate", "firmware")
    return {k: d[k] for k in keep if k in d}


def split_warmup(clips: Clips, parts: dict[str, np.ndarray], count: int, seed: int) -> np.ndarray:
    """The warm-up clips of every clip (:func:`warmup_choice`), drawn inside its own split, so
    no held-out audio reaches training features (``(n, count)`` indices into ``clips``)."""
    warm = np.zeros((len(clips.labels), max(count, 0)), np.int64)
    for mask in parts.values():
        idx = np.flatnonzero(mask)
        warm[idx] = idx[warmup_choice(clips.subset(mask), count, seed)]
    return warm


def train(data: str | os.PathLike, out_dir: str | os.PathLike, preprocessor: str | os.PathLike, *,
          arch: str = "ds-cnn", epochs: int = 30, seed: int = 0, calibration: int = 500,
          target: str = "cortex-m4", warmup: int = 2, context: float = 1.0, force: bool = False,
          log: Log = _quiet) -> dict:
    """Train, quantize and describe a model; returns the model card (also written as JSON and
    markdown to ``out_dir`` beside the models, labels.txt and a copy of the preprocessor).

    ``warmup``: background clips the front end runs over before each clip (features as in a
    stream); ``context``: extra training windows per keyword training clip, cut at a random
    shift from the clip between other clips (:func:`microforge.train.augment.context_windows`)."""
    from microforge.train.model import fit, keras

    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not force:
        raise InputError(f"{out}: exists and is not empty (use --force to overwrite)")
    class_folders(data)
    FeatureExtractor(preprocessor)
    keras()  # the missing extra is reported before the long work
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    clips = load_clips(data, progress=lambda i, n: log(f"read {i}/{n} files") if i == n else None)
    parts = split(clips)
    times["read"] = time.perf_counter() - t0
    log(f"{len(clips.labels)} clips of 1 s in {len(clips.classes)} classes "
        f"({', '.join(clips.label_names)}) from {len(set(clips.speakers))} speakers/voices; "
        + ", ".join(f"{k} {int(v.sum())}" for k, v in parts.items()))
    if parts["train"].sum() == 0 or parts["test"].sum() == 0:
        raise InputError(f"{data}: too few speakers/voices to hold some out (need several; the "
                         "split is by voice, see docs/audio-train.md)")
    t0 = time.perf_counter()
    fx = FeatureExtractor(preprocessor)
    if fx.dtype != np.int8:
        raise ModelError(f"{preprocessor}: the preprocessor must output int8 features (e.g. "
                         "micro_speech's audio_preprocessor_int8.tflite)")
    warm = split_warmup(clips, parts, warmup, seed)
    feats = features(fx, clips.audio, progress=lambda i, n: log(f"features {i}/{n}"), warmup=warm)
    train_clips = clips.subset(parts["train"])
    keyword_clips = int(np.isin(train_clips.labels, [i for i, c in enumerate(clips.classes)
                                                     if c not in SPECIAL]).sum())
    extra, extra_y = context_windows(fx, train_clips, int(round(context * keyword_clips)), seed, warmup,
                                     progress=lambda i, n: log(f"windows in context {i}/{n}"))
    times["features"] = time.perf_counter() - t0
    x = feats.astype(np.float32) / np.float32(SCALE)
    y = clips.labels
    x_train = np.concatenate([x[parts["train"]], extra.astype(np.float32) / np.float32(SCALE)])
    y_train = np.concatenate([y[parts["train"]], extra_y])
    t0 = time.perf_counter()
    model, history = fit(arch, x_train, y_train, x[parts["validation"]],
                         y[parts["validation"]], len(clips.classes), epochs=epochs, seed=seed, log=log)
    times["train"] = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / KERAS_MODEL)
    t0 = time.perf_counter()
    float_model = load(out / KERAS_MODEL)  # microforge's Keras reader, no TensorFlow
    save(float_model, out / FLOAT_MODEL)
    q = quantize(out / FLOAT_MODEL, calibration_set(x[parts["train"]], calibration, seed),
                 progress=False)
    save(q, out / INT8_MODEL)
    inp = q.inputs[0]
    if (float(inp.scale), int(inp.zero_point)) != (1.0 / SCALE, 0):
        raise ModelError(f"the quantized input has scale {inp.scale}, zero point {inp.zero_point} "
                         "(1/128 and 0 needed to take the int8 features unchanged); please report it")
    times["quantize"] = time.perf_counter() - t0
    shutil.copyfile(preprocessor, out / PREPROCESSOR)
    (out / LABELS).write_text("\n".join(clips.label_names) + "\n")
    t0 = time.perf_counter()
    test = parts["test"]
    int8_scores = predict(load(out / INT8_MODEL), feats[test])
    float_scores = float_model.run(x[test][..., None])[0]
    keras_scores = np.asarray(model.predict(x[test][..., None], verbose=0))
    yt = y[test]
    results = {
        "int8": _accuracy(int8_scores, yt, len(clips.classes)),
        "float": _accuracy(float_scores, yt, len(clips.classes)),
        "keras": {"accuracy": float((keras_scores.argmax(1) == yt).mean())},
    }
    times["evaluate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    log("choosing the recognizer's averaging window and threshold on a validation stream")
    recognizer = tune(fx, load(out / INT8_MODEL), clips.subset(parts["validation"]), seed=seed,
                      warmup=warmup)
    times["tune"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    log(f"compiling for {target} (RAM, flash and instruction estimates)")
    deploy = estimates(out / INT8_MODEL, target)
    times["compile"] = time.perf_counter() - t0
    card = {
        "labels": clips.label_names, "arch": arch, "epochs_run": len(history), "seed": seed,
        "data": {"path": str(data), "clips": int(len(y)), "speakers": len(set(clips.speakers)),
                 "context_windows": int(len(extra_y)),
                 **{k: int(v.sum()) for k, v in parts.items()},
                 "held_out_speakers": sorted({s for s, t in zip(clips.speakers, test) if t})},
        "front_end": {"preprocessor": PREPROCESSOR, "sample_rate": fx.sample_rate,
                      "stride_ms": fx.stride_ms, "window_samples": fx.window,
                      "frames": int(feats.shape[1]), "features": int(feats.shape[2]),
                      "warmup_clips": warmup, "warmup_seed": seed},
        "test": results, "recognizer": recognizer, "history": history, "deploy": deploy,
        "seconds": {k: round(v, 2) for k, v in times.items()},
        "parameters": int(model.count_params()),
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=1))
    write_card(out / "model_card.md", card)
    return card


def _accuracy(scores: np.ndarray, truth: np.ndarray, classes: int) -> dict:
    pred = np.asarray(scores).reshape(len(truth), -1).argmax(axis=1)
    return {"accuracy": float((pred == truth).mean()) if len(truth) else 0.0,
            "confusion": confusion(truth, pred, classes).tolist()}
