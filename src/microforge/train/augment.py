"""Training windows as a stream shows them: a keyword clip between two other clips of the same
split (``_unknown_`` speech or ``_silence_`` noise), the front end run over the whole strip after
a warm-up, and one window of the classifier's length cut at a random shift that keeps the
spoken word (its loud part) inside. The window then holds the word anywhere, with other speech
or noise around it, and features shaped by the audio before it, as the recognizer's windows do
every stride in a stream."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from microforge.apps.audio import FeatureExtractor
from microforge.train.dataset import SPECIAL, Clips
from microforge.train.tune import loud_span


def shift_range(span: tuple[int, int], clip: int, stride: int, reach: int) -> tuple[int, int]:
    """(lowest, highest) window shift in strides, relative to the clip's start, whose window of
    ``clip`` samples holds ``span``, within ``reach`` strides either way."""
    a, b = span
    low = max(-reach, -((clip - b) // stride))  # shift left: the word's end stays inside
    high = min(reach, a // stride)
    return (low, high) if low <= high else (0, 0)


def context_windows(extractor: FeatureExtractor, clips: Clips, count: int, seed: int, warmup: int = 2,
                    batch: int = 64, progress: Callable[[int, int], None] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` windows (features, labels) from the keyword clips of ``clips`` (one split), each
    ``warmup`` + 1 background clips, the keyword clip, one background clip; shifted at random
    by up to one clip. Returns ``(count, frames, features)`` features and their labels."""
    rng = np.random.default_rng([seed, 7])
    background_ids = [clips.classes.index(c) for c in SPECIAL if c in clips.classes]
    is_bg = np.isin(clips.labels, background_ids)
    keywords, pool = np.flatnonzero(~is_bg), np.flatnonzero(is_bg)
    length = clips.audio.shape[1]
    if count <= 0 or not keywords.size or not pool.size or length % extractor.stride:
        return np.empty((0, extractor.num_frames(length), extractor.num_features), extractor.dtype), \
            np.empty(0, np.int64)
    chosen = keywords[rng.integers(0, keywords.size, count)] if count > keywords.size else \
        rng.permutation(keywords)[:count]
    around = pool[rng.integers(0, pool.size, (count, warmup + 2))]
    per_clip = length // extractor.stride
    frames = extractor.num_frames(length)
    shifts = np.array([rng.integers(lo, hi + 1) for lo, hi in
                       (shift_range(loud_span(clips.audio[i]), length, extractor.stride, per_clip)
                        for i in chosen)], np.int64)
    out = []
    for start in range(0, count, batch):
        sl = slice(start, start + batch)
        strip = np.concatenate([clips.audio[around[sl, j]] for j in range(warmup + 1)]
                               + [clips.audio[chosen[sl]], clips.audio[around[sl, warmup + 1]]], axis=1)
        feats = extractor.extract(strip)
        first = (warmup + 1) * per_clip + shifts[sl]
        out.append(feats[np.arange(len(first))[:, None], first[:, None] + np.arange(frames)])
        if progress:
            progress(min(start + batch, count), count)
    return np.concatenate(out), clips.labels[chosen]
