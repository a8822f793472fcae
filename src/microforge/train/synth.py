"""``microforge audio synth``: keyword clips spoken by espeak-ng, other words as ``_unknown_`` and
generated noises as ``_silence_``, 16 kHz mono 1 s WAV files, augmented, deterministic for a seed.

Each clip is one espeak-ng call with a voice (an English accent plus one of espeak-ng's voice
variants), a speed, a pitch and an amplitude drawn from the clip's own random generator (seeded by
``(seed, label, index)``, so the result does not depend on the number of worker processes). The
22050 Hz output is resampled in numpy, perturbed in speed and pitch (resampling by a factor near 1),
trimmed, placed in the 1 s window with a random shift and gain, and mixed with white, pink, brown
or hum noise at a random SNR. ``manifest.csv`` records every clip's voice, so training can hold
out whole voices."""

from __future__ import annotations

import csv
import multiprocessing
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microforge.errors import InputError, ToolError
from microforge.train.signal import NOISES, add_noise, noise, resample, rms, to_int16

RATE = 16000
ESPEAK_RATE = 22050
ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd",
           "en-029", "en-us-nyc")
# common English words that are not keywords (a few sound close to the usual keywords)
OTHER_WORDS = (
    "yes no up down left right one two three four five six seven eight nine zero bed bird cat "
    "dog happy house marvin sheila tree wow learn follow forward backward visual the and of to "
    "in is it that was for with as his they at be this have from or had by word but what some "
    "we can out other were all there when use your how said an each she which do their time if "
    "will way about many then them write would like so these her long make thing see him two "
    "has look more day could come did number sound most people my over know water than call "
    "first who may down side been now find any new work part take get place made live where "
    "after back little only round man year came show every good me give our under name very "
    "through just form sentence great think say help low line differ turn cause much mean before "
    "move boy old too same tell does set three want air well also play small end put home read "
    "hand port large spell add even land here must big high such why ask went men light kind "
    "off need stop go on often doing gone song spot top dot got gold of ton shop box"
).split()
CLIP = RATE  # samples per clip (1 s)


@dataclass
class SynthOptions:
    keywords: list[str]
    per_keyword: int = 200
    unknown: int | None = None  # clips of _unknown_ (default: per_keyword)
    silence: int | None = None  # clips of _silence_ (default: per_keyword // 2)
    seed: int = 0
    snr_db: tuple[float, float] = (5.0, 30.0)
    noise_probability: float = 0.8
    running_speech: float = 0.5  # share of _unknown_ clips cut from a phrase of several words
    context: float = 0.3  # share of keyword clips with other words before or after the keyword
    jobs: int | None = None
    accents: Sequence[str] = ACCENTS
    variants: Sequence[str] | None = None  # default: all of espeak-ng's
    exclude_words: Sequence[str] = field(default_factory=tuple)
    variant_list: list[str] = field(default_factory=list)  # filled by synthesize()
    unknown_words: list[str] = field(default_factory=list)  # filled by synthesize()


def espeak() -> str:
    """The espeak-ng executable, or a one-line ToolError saying how to install it."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise ToolError("audio synth needs espeak-ng: apt-get install espeak-ng (Debian/Ubuntu)")
    return exe


def espeak_variants() -> list[str]:
    """espeak-ng's voice variants (``espeak-ng --voices=variant``), e.g. m3, f2, klatt, croak."""
    out = subprocess.run([espeak(), "--voices=variant"], capture_output=True, text=True).stdout
    names = [line.split()[-1].split("/")[-1] for line in out.splitlines()[1:] if line.strip()]
    return sorted(set(names))


def speak(text: str, voice: str, speed: int, pitch: int, amplitude: int) -> np.ndarray:
    """espeak-ng's speech for ``text`` as float samples at 22050 Hz."""
    proc = subprocess.run([espeak(), "-v", voice, "-s", str(speed), "-p", str(pitch),
                           "-a", str(amplitude), "--stdout", text], capture_output=True)
    data = proc.stdout
    at = data.find(b"data")
    if proc.returncode != 0 or at < 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise ToolError(f"espeak-ng failed for voice {voice}: {msg[0] if msg else 'no output'}")
    pcm = data[at + 8:]
    return np.frombuffer(pcm[: len(pcm) // 2 * 2], "<i2").astype(np.float64) / 32768.0


def trim(x: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """``x`` without leading and trailing silence (10 ms blocks below ``threshold`` of the peak)."""
    block = RATE // 100
    if len(x) < block:
        return x
    env = np.abs(x[: len(x) // block * block]).reshape(-1, block).max(axis=1)
    loud = np.flatnonzero(env > threshold * (env.max() or 1.0))
    return x[loud[0] * block: (loud[-1] + 1) * block] if loud.size else x[:0]


def place(word: np.ndarray, rng: np.random.Generator, length: int = CLIP) -> np.ndarray:
    """The word in a window of ``length`` samples at a random offset (cut to fit)."""
    out = np.zeros(length)
    word = word[:length]
    start = int(rng.integers(0, length - len(word) + 1))
    out[start: start + len(word)] = word
    return out


def write_wav(path: str | os.PathLike, samples: np.ndarray, rate: int = RATE) -> None:
    """16-bit PCM mono WAV."""
    with wave.open(os.fspath(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(np.asarray(samples, "<i2").tobytes())


def _with_context(x: np.ndarray, context: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` (a placed word) with the end of ``context`` before it or the start after it, 50 to
    250 ms away from the word (nothing added when there is no room)."""
    loud = np.flatnonzero(np.abs(x) > 0)
    if not loud.size or not len(context):
        return x
    gap = int(rng.integers(RATE // 20, RATE // 4))
    out = x.copy()
    before = loud[0] - gap
    after = loud[-1] + 1 + gap
    if rng.random() < 0.5 and before > 0:
        piece = context[-before:]
        out[before - len(piece): before] += piece
    elif after < len(x):
        piece = context[: len(x) - after]
        out[after: after + len(piece)] += piece
    return out


def _job(task: tuple) -> dict:
    """One clip: (label, index, word or None, options) -> its manifest row; writes the WAV."""
    label, index, label_id, out_dir, opts = task
    rng = np.random.default_rng([opts.seed, label_id, index])
    row = {"file": "", "label": label, "text": "", "voice": "", "accent": "", "variant": "",
           "speed": "", "pitch": "", "amplitude": "", "noise": "", "snr_db": ""}
    if label == "_silence_":
        kind = str(rng.choice(NOISES))
        level = 10 ** rng.uniform(-4, -0.7)  # -80..-14 dBFS
        x = noise(kind, CLIP, rng) * level
        row.update(noise=kind, voice="noise", text="")
    else:
        running = label == "_unknown_" and rng.random() < opts.running_speech
        if label != "_unknown_":
            word = label
        elif running:  # a 1 s excerpt of several words read as one phrase
            word = " ".join(rng.choice(opts.unknown_words, size=int(rng.integers(3, 8))))
        else:
            word = str(rng.choice(opts.unknown_words))
        accent = str(rng.choice(list(opts.accents)))
        variant = str(rng.choice(opts.variant_list))
        speed, pitch = int(rng.integers(110, 221)), int(rng.integers(15, 86))
        amplitude = int(rng.integers(60, 181))
        voice = f"{accent}+{variant}"
        factor = rng.uniform(0.9, 1.1)

        def say(text: str) -> np.ndarray:
            # speed and pitch perturbation: resample by a factor near 1 (both change together)
            return trim(resample(speak(text, voice, speed, pitch, amplitude), ESPEAK_RATE, RATE * factor))

        x = say(word)
        if running and len(x) > CLIP:
            start = int(rng.integers(0, len(x) - CLIP + 1))
            x = x[start: start + CLIP]
        else:
            x = place(x, rng)
        if label != "_unknown_" and rng.random() < opts.context:
            # other speech before or after the keyword in the window, never over it
            other = " ".join(rng.choice(opts.unknown_words, size=int(rng.integers(2, 4))))
            x = _with_context(x, say(other), rng)
            word = f"{word} (+ {other})"
        peak = np.abs(x).max() or 1.0
        x = x / peak * 10 ** rng.uniform(-1.2, -0.05)  # gain: peak at -24..-0.5 dBFS
        row.update(text=word, voice=voice, accent=accent, variant=variant, speed=speed,
                   pitch=pitch, amplitude=amplitude)
        if rng.random() < opts.noise_probability:
            kind = str(rng.choice(NOISES))
            snr = float(rng.uniform(*opts.snr_db))
            x = add_noise(x, noise(kind, CLIP, rng), snr) if rms(x) > 0 else x
            row.update(noise=kind, snr_db=round(snr, 1))
    tag = row["voice"] if row["voice"] != "noise" else row["noise"]
    name = f"{label}/{label.strip('_')}_{index:05d}_{tag}.wav"
    write_wav(Path(out_dir) / name, to_int16(x))
    row["file"] = name
    return row


def synthesize(out_dir: str | os.PathLike, opts: SynthOptions,
               progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Write the data set; returns the manifest rows (also written to ``manifest.csv``)."""
    keywords = [k.strip().lower() for k in opts.keywords if k.strip()]
    if not keywords or len(set(keywords)) != len(keywords):
        raise InputError("--keywords: give distinct non-empty words separated by commas")
    if any(k.startswith("_") for k in keywords):
        raise InputError("--keywords: a keyword may not start with '_' (reserved for _unknown_, "
                         "_silence_)")
    if opts.per_keyword < 1:
        raise InputError("--per-keyword must be at least 1")
    espeak()
    opts.variant_list = list(opts.variants) if opts.variants else espeak_variants()
    skip = set(keywords) | {w.lower() for w in opts.exclude_words}
    opts.unknown_words = [w for w in dict.fromkeys(OTHER_WORDS) if w not in skip]
    out = Path(out_dir)
    counts = {"_silence_": opts.silence if opts.silence is not None else max(1, opts.per_keyword // 2),
              "_unknown_": opts.unknown if opts.unknown is not None else opts.per_keyword}
    counts.update({k: opts.per_keyword for k in keywords})
    tasks = []
    for label, n in sorted(counts.items()):
        (out / label).mkdir(parents=True, exist_ok=True)
        tasks += [(label, i, _label_seed(label), str(out), opts) for i in range(n)]
    rows: list[dict] = []
    jobs = opts.jobs or os.cpu_count() or 1
    if jobs > 1 and len(tasks) > 8:
        with multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork").Pool(jobs) as pool:
            for row in pool.imap(_job, tasks, chunksize=4):
                rows.append(row)
                if progress:
                    progress(len(rows), len(tasks))
    else:
        for task in tasks:
            rows.append(_job(task))
            if progress:
                progress(len(rows), len(tasks))
    with open(out / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows


def _label_seed(label: str) -> int:
    """A stable number per label (not Python's salted hash)."""
    return int.from_bytes(label.encode()[:16].ljust(16, b"\0"), "little") % (2 ** 63)
