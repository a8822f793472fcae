"""The recognizer's settings for a trained model, chosen on the validation split (never on the
held-out test voices): the validation keywords are put between other validation clips
(``_unknown_`` speech, ``_silence_`` noise) into one stream, the int8 model runs over it as
``microforge kws`` does (:class:`KeywordSpotter`), and every averaging window and threshold in a
grid is scored on the spotter's per-window results: a keyword is found when the first detection
from 0.5 s before to 1 s after it has its label; any other detection is an error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from microforge.apps.audio import CommandRecognizer, Detection, FeatureExtractor, KeywordSpotter, unit_scores
from microforge.train.dataset import SPECIAL, Clips

AVERAGE_MS = (250, 500, 750, 1000)
THRESHOLDS = tuple(range(100, 250, 10))
ERROR_COST = 2  # a false or wrong detection costs as much as two missed keywords


class Placed(NamedTuple):
    """A keyword in a stream: its label and the span of its loud part (ms)."""

    label: str
    start_ms: int
    end_ms: int


def loud_span(x: np.ndarray, rate: int = 16000, fraction: float = 0.25) -> tuple[int, int]:
    """(first, last + 1) sample of the 10 ms blocks whose peak exceeds ``fraction`` of the clip's
    peak: where the word is, for a clip of one spoken word (the whole clip if it is all loud)."""
    block = rate // 100
    env = np.abs(x[: len(x) // block * block].astype(np.float64)).reshape(-1, block).max(axis=1)
    loud = np.flatnonzero(env > fraction * (env.max() or 1.0))
    if not loud.size:
        return 0, len(x)
    return int(loud[0]) * block, (int(loud[-1]) + 1) * block


def keyword_stream(clips: Clips, limit: int = 120, warmup: int = 2,
                   seed: int = 0) -> tuple[np.ndarray, list[Placed]]:
    """One stream of the set's keyword clips (at most ``limit``, drawn evenly over the set), each
    after a background clip (``_unknown_`` or ``_silence_``, drawn at random; after any
    non-keyword clip for sets without them), starting with ``warmup`` background clips."""
    rng = np.random.default_rng(seed)
    names = clips.label_names
    background_ids = [clips.classes.index(c) for c in SPECIAL if c in clips.classes]
    is_bg = np.isin(clips.labels, background_ids)
    keywords = np.flatnonzero(~is_bg)
    pool = np.flatnonzero(is_bg)
    if not pool.size:
        pool = keywords
    keywords = rng.permutation(keywords)[:limit]
    rate = 16000
    parts = [clips.audio[i] for i in rng.choice(pool, size=warmup)] if pool.size else []
    at = sum(len(p) for p in parts)
    placed = []
    for i in keywords:
        if pool.size:
            parts.append(clips.audio[int(rng.choice(pool))])
            at += len(parts[-1])
        a, b = loud_span(clips.audio[i], rate)
        placed.append(Placed(names[clips.labels[i]], (at + a) * 1000 // rate, (at + b) * 1000 // rate))
        parts.append(clips.audio[i])
        at += len(clips.audio[i])
    if pool.size:
        parts.append(clips.audio[int(rng.choice(pool))])
    audio = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    return audio.astype(np.int16), placed


def recognize(results: Sequence[tuple[int, np.ndarray]], labels: Sequence[str], threshold: int,
              average_ms: int, ignore: Sequence[str] = ("silence", "unknown")) -> list[Detection]:
    """The detections of a spotter's per-window results (``KeywordSpotter.results``) under
    another threshold and averaging window: the same steps as ``KeywordSpotter.push`` (the
    classifier outputs do not depend on them)."""
    rec = CommandRecognizer(labels, average_window_ms=average_ms, detection_threshold=threshold)
    events = []
    for t, s in results:
        label, score, new = rec.process(unit_scores(s), t)
        if new and label not in ignore:
            events.append(Detection(label, score, max(0, t - average_ms // 2)))
    return events


def score(events: Sequence[Detection], placed: Sequence[Placed]) -> tuple[int, int, int]:
    """(right label, wrong label, extra) detections against the placed keywords: a detection
    counts for a keyword when its time is within 0.5 s before to 1 s after the spoken word."""
    hits = wrong = 0
    used: set[int] = set()
    for label, a, b in placed:
        match = [i for i, e in enumerate(events) if a - 500 <= e.time_ms <= b + 1000 and i not in used]
        if match:
            used.add(match[0])
            hits += events[match[0]].label == label
            wrong += events[match[0]].label != label
    return hits, wrong, len(events) - len(used)


def choose(results: Sequence[tuple[int, np.ndarray]], labels: Sequence[str], placed: Sequence[Placed],
           average_ms: Sequence[int] = AVERAGE_MS, thresholds: Sequence[int] = THRESHOLDS,
           error_cost: float = ERROR_COST) -> dict:
    """The setting with the most found keywords minus ``error_cost`` per wrong or extra
    detection (ties: the higher threshold, then the longer window), with the grid's figures."""
    grid = []
    for avg in average_ms:
        for th in thresholds:
            hits, wrong, extra = score(recognize(results, labels, th, avg), placed)
            grid.append({"average_ms": avg, "threshold": th, "found": hits, "wrong": wrong,
                         "extra": extra, "gain": hits - error_cost * (wrong + extra)})
    best = max(grid, key=lambda r: (r["gain"], r["threshold"], r["average_ms"]))
    return {"average_ms": best["average_ms"], "threshold": best["threshold"],
            "keywords": len(placed), "found": best["found"], "wrong": best["wrong"],
            "extra": best["extra"], "error_cost": error_cost, "grid": grid}


def tune(extractor: FeatureExtractor, int8_model, clips: Clips, seed: int = 0, limit: int = 120,
         warmup: int = 2) -> dict:
    """Run the int8 model over a stream of ``clips`` (the validation split) and choose the
    recognizer's averaging window and threshold (:func:`choose`); also the stream's length."""
    audio, placed = keyword_stream(clips, limit=limit, warmup=warmup, seed=seed)
    if not placed:
        return {}
    spotter = KeywordSpotter(extractor, int8_model, clips.label_names)
    spotter.detect(audio)
    best = choose(spotter.results, clips.label_names, placed)
    best["stream_seconds"] = round(len(audio) / extractor.sample_rate, 1)
    return best
