"""A folder-per-class WAV data set as 1 s clips, its speaker-held-out split, and its features
from the micro_speech front end (the preprocessor model, run bit-exactly and batched)."""

from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microforge.apps.audio import FeatureExtractor, read_wav
from microforge.errors import InputError
from microforge.train.signal import resample

RATE = 16000
SPECIAL = ("_silence_", "_unknown_")  # Speech Commands' folder names, first in the label order
DISPLAY = {"_silence_": "silence", "_unknown_": "unknown"}  # as labels.txt names them


@dataclass
class Clips:
    """1 s int16 clips with their class index, source file and speaker (voice) id."""

    audio: np.ndarray  # (n, samples) int16
    labels: np.ndarray  # (n,) int64
    files: list[str]
    speakers: list[str]
    classes: list[str]  # folder names, in label order

    @property
    def label_names(self) -> list[str]:
        """The labels written to labels.txt: _silence_ -> silence, _unknown_ -> unknown."""
        return [DISPLAY.get(c, c) for c in self.classes]

    def subset(self, mask: np.ndarray) -> Clips:
        idx = np.flatnonzero(mask)
        return Clips(self.audio[idx], self.labels[idx], [self.files[i] for i in idx],
                     [self.speakers[i] for i in idx], self.classes)


def class_folders(data: str | os.PathLike) -> list[str]:
    """The class folders of ``data`` (those holding .wav files): _silence_, _unknown_ first (in that
    order, when present), then the others sorted."""
    root = Path(data)
    if not root.is_dir():
        raise InputError(f"{root}: not a directory (give a folder with one sub-folder of WAV files "
                         "per class)")
    names = sorted(d.name for d in root.iterdir() if d.is_dir() and any(d.glob("*.wav")))
    if len(names) < 2:
        raise InputError(f"{root}: needs at least two class folders holding .wav files, found "
                         f"{len(names)}")
    return [c for c in SPECIAL if c in names] + [c for c in names if c not in SPECIAL]


def speaker_of(rel: str, manifest: dict[str, str]) -> str:
    """The speaker (voice) of a file: the synth manifest's voice variant; else the part before
    ``_nohash_`` (Speech Commands' convention); else the file itself."""
    if rel in manifest:
        return manifest[rel]
    stem = Path(rel).name
    m = re.match(r"(.+?)_nohash_", stem)
    return m.group(1) if m else rel


def _manifest(root: Path) -> dict[str, str]:
    path = root / "manifest.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as f:
        return {r["file"]: (r.get("variant") or r["file"]) for r in csv.DictReader(f)}


def windows(x: np.ndarray, length: int = RATE) -> list[np.ndarray]:
    """A clip as 1 s windows: shorter clips padded with zeros at the end, longer ones cut into
    consecutive windows (a last piece shorter than half a window is dropped)."""
    if len(x) <= length:
        return [np.pad(x, (0, length - len(x)))]
    out = [x[i: i + length] for i in range(0, len(x) - length + 1, length)]
    rest = len(x) % length
    if rest >= length // 2:
        out.append(np.pad(x[len(x) - rest:], (0, length - rest)))
    return out


def load_clips(data: str | os.PathLike, progress: Callable[[int, int], None] | None = None,
               classes: list[str] | None = None) -> Clips:
    """Every WAV under the class folders of ``data`` as 1 s windows (16-bit mono; other sample
    rates are resampled to 16 kHz). ``classes``: the label order to use (a trained model's)."""
    root = Path(data)
    if classes is None:
        classes = class_folders(data)
    elif not root.is_dir():
        raise InputError(f"{root}: not a directory (give a folder with one sub-folder of WAV files "
                         "per class)")
    manifest = _manifest(root)
    files = [(c, p) for c in classes for p in sorted((root / c).glob("*.wav"))]
    if not files:
        raise InputError(f"{root}: no WAV files in the class folders {', '.join(classes)}")
    audio, labels, names, speakers = [], [], [], []
    for k, (c, path) in enumerate(files):
        x, rate = read_wav(path)
        if rate != RATE:
            x = np.clip(np.round(resample(x.astype(np.float64), rate, RATE)), -32768, 32767)
            x = x.astype(np.int16)
        rel = f"{c}/{path.name}"
        for w in windows(x):
            audio.append(w)
            labels.append(classes.index(c))
            names.append(rel)
            speakers.append(speaker_of(rel, manifest))
        if progress and (k % 200 == 0 or k == len(files) - 1):
            progress(k + 1, len(files))
    return Clips(np.stack(audio).astype(np.int16), np.array(labels, np.int64), names, speakers,
                 list(classes))


def split(clips: Clips, test: float = 0.15, validation: float = 0.10) -> dict[str, np.ndarray]:
    """Boolean masks train / validation / test: every speaker falls in one part only, chosen by a
    hash of its name (stable across runs and data set sizes, as Speech Commands' split)."""
    def part(speaker: str) -> str:
        h = int(hashlib.sha1(speaker.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        return "test" if h < test else ("validation" if h < test + validation else "train")

    parts = np.array([part(s) for s in clips.speakers])
    return {name: parts == name for name in ("train", "validation", "test")}


def warmup_choice(clips: Clips, count: int, seed: int) -> np.ndarray:
    """For every clip, ``count`` other clips of the set to run the front end over first:
    ``(n, count)`` indices, drawn (seeded) from the background classes (``_unknown_``,
    ``_silence_``) or, in a set without them, from all clips; never the clip itself when another
    is available. Called on one split at a time, the warm-up stays inside that split."""
    n = len(clips.labels)
    if count <= 0 or n == 0:
        return np.zeros((n, 0), np.int64)
    background = [clips.classes.index(c) for c in SPECIAL if c in clips.classes]
    pool = np.flatnonzero(np.isin(clips.labels, background)) if background else np.arange(n)
    if pool.size == 0:
        pool = np.arange(n)
    pick = np.random.default_rng(seed).integers(0, pool.size, size=(n, count))
    chosen = pool[pick]
    same = chosen == np.arange(n)[:, None]
    chosen[same] = pool[(pick[same] + 1) % pool.size]  # the next one in the pool instead
    return chosen


def features(extractor: FeatureExtractor, audio: np.ndarray, batch: int = 256,
             progress: Callable[[int, int], None] | None = None,
             warmup: np.ndarray | None = None) -> np.ndarray:
    """The front end's features of 1 s clips, ``(n, frames, features)``, batched.

    ``warmup`` (``(n, k)`` indices into ``audio``, see :func:`warmup_choice`): the front end first
    runs over those k clips, then over the clip, and only the clip's frames are kept, so its
    noise estimate and gain control (PCAN) have adapted to k seconds of other audio as in a
    stream instead of starting from their initial state. A clip's length must then be a
    whole number of strides (1 s at 16 kHz is 50 strides of 20 ms)."""
    k = 0 if warmup is None else warmup.shape[1]
    if k and audio.shape[1] % extractor.stride:
        raise InputError(f"clips of {audio.shape[1]} samples are not a whole number of "
                         f"{extractor.stride}-sample strides; the warm-up needs that")
    skip = k * audio.shape[1] // extractor.stride
    out = []
    for start in range(0, len(audio), batch):
        x = audio[start: start + batch]
        if k:
            x = np.concatenate([audio[warmup[start: start + batch, j]] for j in range(k)] + [x], axis=1)
        out.append(extractor.extract(x)[:, skip:])
        if progress:
            progress(min(start + batch, len(audio)), len(audio))
    return np.concatenate(out) if out else np.empty((0,), extractor.dtype)
