"""The full keyword recipe: synthesize on/off/go/stop with espeak-ng, train a DS-CNN on the
micro_speech features, quantize int8, and measure

- accuracy on voices held out of training (int8 model, microforge runtime);
- detection rate of held-out-voice keywords inserted into a noisy stream of espeak-ng reading
  ordinary paragraphs, and false accepts per hour on the same stream without keywords
  (the streaming KeywordSpotter, as `microforge kws` and the generated C app run it), at the
  averaging window and threshold `audio train` chose on the validation voices, at micro_speech's
  defaults (1000 ms, 200) and at a few other settings;
- wall time of each stage, RAM and flash of the deployed model (compile --target cortex-m4).

Run: nice -n 5 .venv/bin/python benchmarks/audio_train.py [--per-keyword 500] [--epochs 100]
      [--work /tmp/audio_train] [--json out.json]
Needs espeak-ng, the train extra and ../shared/models/audio_preprocessor_int8.tflite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from microforge.apps.audio import KeywordSpotter
from microforge.train.dataset import load_clips, split
from microforge.train.evaluate import evaluate, open_model_dir
from microforge.train.pipeline import train
from microforge.train.signal import add_noise, noise, resample, to_int16
from microforge.train.synth import ESPEAK_RATE, RATE, SynthOptions, espeak_variants, speak, synthesize
from microforge.train.tune import Placed, recognize, score, tune

ROOT = Path(__file__).resolve().parents[1]
PREPROCESSOR = ROOT.parent / "shared" / "models" / "audio_preprocessor_int8.tflite"
KEYWORDS = ["on", "off", "go", "stop"]
# ordinary text (written for this benchmark), read by espeak-ng as the non-keyword stream
PARAGRAPHS = [
    "The weather this morning was cold and grey, and the bus into town was late again. Most "
    "people waited under the shelter and read the news, while a few walked to the station to "
    "catch an earlier train.",
    "A good loaf of bread needs only flour, water, salt and yeast, but it also needs time. Mix "
    "the dough the evening before, let it rest overnight in a cool room, then shape it and bake "
    "it in a very hot oven until the crust sounds hollow.",
    "The library has moved to the old post office building near the river. Its reading room is "
    "larger now, with tall windows facing the water, and there are quiet corners for children "
    "and a small cafe by the main door.",
    "Our team met with the suppliers to talk about the new delivery schedule. They promised "
    "shorter waiting times for spare parts, a weekly report of orders, and a single person to "
    "call when something is missing or broken.",
    "In the garden, the tomatoes are ripening slowly because the summer has been short. The beans "
    "climbed higher than the fence, the lettuce has already flowered, and the apple tree will need "
    "pruning before the winter comes.",
    "History lessons at the museum begin with a walk through the early settlements. Visitors see "
    "tools made from bone and flint, clay pots with painted patterns, and the remains of a wooden "
    "boat found in the marsh.",
    "If you travel by car through the mountains, check the tyres and carry warm clothes. The "
    "roads are narrow and steep, the weather changes quickly, and the nearest garage may be many "
    "miles away from the village.",
    "She practised the piano every evening for an hour, first scales and then a short piece by "
    "heart. After a year her teacher suggested a concert at the school, and her whole family "
    "came to listen.",
]


def strip_keywords(text: str) -> str:
    """The text without any keyword as a word (the stream must hold none)."""
    return re.sub(r"\b(" + "|".join(KEYWORDS) + r")\b", "", text, flags=re.IGNORECASE)


def speech_stream(seed: int, voices: list[str], repeats: int) -> np.ndarray:
    """espeak-ng reading every paragraph ``repeats`` times with varied voices, 16 kHz float."""
    rng = np.random.default_rng(seed)
    parts = []
    for _ in range(repeats):
        for text in PARAGRAPHS:
            voice = str(rng.choice(voices))
            x = speak(strip_keywords(text), voice, int(rng.integers(130, 190)), int(rng.integers(30, 70)),
                      int(rng.integers(80, 160)))
            x = resample(x, ESPEAK_RATE, RATE)
            parts += [x * 10 ** rng.uniform(-0.6, 0.0) / (np.abs(x).max() or 1.0),
                      np.zeros(int(rng.integers(RATE // 4, RATE)))]
    return np.concatenate(parts)


def noisy(x: np.ndarray, seed: int, snr_db: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return add_noise(x, noise("pink", len(x), rng) + 0.5 * noise("hum", len(x), rng), snr_db)


def insert_keywords(stream: np.ndarray, data: Path, every_s: float, seed: int,
                    speakers: set[str]) -> tuple[np.ndarray, list[Placed]]:
    """Keyword clips of held-out voices cut into the stream every ``every_s`` seconds (the stream is
    split there and the 1 s clip put between); returns the stream and (label, start_ms, end_ms)."""
    from microforge.apps.audio import read_wav

    rng = np.random.default_rng(seed)
    clips = [(k, p) for k in KEYWORDS for p in sorted((data / k).glob("*.wav"))
             if p.stem.split("+")[-1] in speakers]
    out, placed, pos, at = [], [], 0, 0
    step = int(every_s * RATE)
    while pos + step < len(stream) and clips:
        out.append(stream[pos: pos + step])
        at += step
        label, path = clips[int(rng.integers(len(clips)))]
        x = read_wav(path)[0].astype(np.float64) / 32768.0
        x = x / (np.abs(x).max() or 1.0) * 0.5
        loud = np.flatnonzero(np.abs(x) > 0.05)
        placed.append(Placed(label, (at + int(loud[0])) * 1000 // RATE, (at + int(loud[-1])) * 1000 // RATE))
        out.append(x)
        at += len(x)
        pos += step
    out.append(stream[pos:])
    return np.concatenate(out), placed


def spot(model_dir: Path, audio: np.ndarray) -> tuple[KeywordSpotter, float]:
    """The spotter after a run over the stream (its per-window results kept), and the time."""
    md = open_model_dir(model_dir)
    kws = KeywordSpotter(md.extractor(), md.int8, md.labels)
    t = time.perf_counter()
    kws.detect(to_int16(audio))
    return kws, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-keyword", type=int, default=500)
    ap.add_argument("--unknown", type=int, default=None, help="_unknown_ clips (default 2 x per keyword)")
    ap.add_argument("--epochs", type=int, default=100, help="at most (early stopping decides)")
    ap.add_argument("--arch", default="ds-cnn")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-seed", type=int, default=None,
                    help="seed of training only (default --seed): the same data and streams")
    ap.add_argument("--work", default="/tmp/audio_train")
    ap.add_argument("--repeats", type=int, default=3, help="readings of the paragraphs in the stream")
    ap.add_argument("--snr", type=float, default=10.0, help="stream SNR in dB")
    ap.add_argument("--warmup", type=int, default=2,
                    help="seconds of background audio the front end runs over before each clip")
    ap.add_argument("--context", type=float, default=1.0,
                    help="extra training windows in context per keyword clip")
    ap.add_argument("--json", default=None)
    ap.add_argument("--data", default=None, help="reuse a synthesized data directory (skip synth)")
    ap.add_argument("--model-dir", default=None,
                    help="reuse a model directory trained on --data (skip training)")
    args = ap.parse_args()
    work = Path(args.work)
    data, model_dir = work / "data", work / "model"
    times = {}

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    unknown = args.unknown if args.unknown is not None else 2 * args.per_keyword
    if args.data:
        data = Path(args.data)  # an earlier run's synth output (its time is not measured here)
    else:
        t = time.perf_counter()
        synthesize(data, SynthOptions(KEYWORDS, per_keyword=args.per_keyword, unknown=unknown,
                                      seed=args.seed),
                   progress=lambda i, n: log(f"synth {i}/{n}") if i % 500 == 0 or i == n else None)
        times["synth"] = time.perf_counter() - t
    if args.model_dir:
        model_dir = Path(args.model_dir)  # trained earlier on this data: its card has the times
        card = json.loads((model_dir / "model_card.json").read_text())
    else:
        t = time.perf_counter()
        card = train(data, model_dir, PREPROCESSOR, arch=args.arch, epochs=args.epochs,
                     seed=args.seed if args.train_seed is None else args.train_seed,
                     warmup=args.warmup, context=args.context, force=True, log=log)
        times["train_total"] = time.perf_counter() - t
    times.update({f"train.{k}": v for k, v in card["seconds"].items()})
    t = time.perf_counter()
    ev = evaluate(model_dir, data)
    times["eval_all_clips"] = time.perf_counter() - t
    held_out = {s for s in card["data"]["held_out_speakers"] if "/" not in s}
    variants = espeak_variants()
    t = time.perf_counter()
    speech = speech_stream(args.seed + 1, [f"en-us+{v}" for v in variants[::7]] + ["en", "en-gb-x-rp"],
                           args.repeats)
    clean_stream = noisy(speech, args.seed + 2, args.snr)
    with_kw, placed = insert_keywords(speech, data, 4.0, args.seed + 3, held_out)
    kw_stream = noisy(with_kw, args.seed + 2, args.snr)
    times["stream_synth"] = time.perf_counter() - t
    fa_kws, t_fa = spot(model_dir, clean_stream)
    kw_kws, t_kw = spot(model_dir, kw_stream)
    times["spot_streams"] = t_fa + t_kw
    hours = len(clean_stream) / RATE / 3600
    chosen = card.get("recognizer") or {}
    if not chosen:  # a model trained before the recognizer was tuned: tune it now, as train does
        t = time.perf_counter()
        clips = load_clips(data)
        md = open_model_dir(model_dir)
        chosen = tune(md.extractor(), md.int8, clips.subset(split(clips)["validation"]), seed=args.seed,
                      warmup=card["front_end"].get("warmup_clips", 0))
        times["tune_afterwards"] = time.perf_counter() - t
    settings = [(a, t) for a in (500, 1000) for t in (100, 150, 200)]
    if chosen:
        settings.insert(0, (chosen["average_ms"], chosen["threshold"]))
    sweep = []
    for average_ms, threshold in dict.fromkeys(settings):
        fa = recognize(fa_kws.results, fa_kws.labels, threshold, average_ms)
        hits, wrong, extra = score(recognize(kw_kws.results, kw_kws.labels, threshold, average_ms), placed)
        sweep.append({"average_ms": average_ms, "threshold": threshold,
                      "detection_rate": hits / max(1, len(placed)),
                      "wrong_label": wrong, "extra_detections": extra, "false_accepts": len(fa),
                      "false_accepts_per_hour": len(fa) / hours,
                      "false_accept_labels": [e.label for e in fa]})
    default = next(r for r in sweep if (r["average_ms"], r["threshold"]) == (1000, 200))
    tuned = sweep[0] if chosen else None
    dep = card["deploy"]
    result = {
        "keywords": KEYWORDS, "arch": args.arch, "per_keyword": args.per_keyword,
        "warmup_clips": card["front_end"].get("warmup_clips", 0),
        "context_windows": card["data"].get("context_windows", 0),
        "clips": card["data"]["clips"], "held_out_voices": len(held_out),
        "held_out_accuracy_int8": card["test"]["int8"]["accuracy"],
        "held_out_accuracy_float": card["test"]["float"]["accuracy"],
        "held_out_accuracy_keras": card["test"]["keras"]["accuracy"],
        "held_out_confusion_int8": card["test"]["int8"]["confusion"], "labels": card["labels"],
        "epochs_run": card["epochs_run"], "parameters": card["parameters"],
        "eval_clips_per_second": ev["clips_per_second"],
        "eval_model_clips_per_second": ev["model_clips_per_second"],
        "stream_seconds": len(clean_stream) / RATE, "stream_snr_db": args.snr,
        "inserted_keywords": len(placed), "threshold_200": default,
        "chosen_on_validation": tuned,
        "validation_stream": {k: v for k, v in chosen.items() if k != "grid"}, "threshold_sweep": sweep,
        "spot_realtime_factor": (len(clean_stream) + len(kw_stream)) / RATE / max(t_fa + t_kw, 1e-9),
        "deploy": {k: dep.get(k) for k in ("target", "arena_bytes", "ram_bytes", "const_bytes",
                                          "code_bytes", "flash_bytes", "macs")},
        "instructions_per_inference": ((dep.get("firmware") or {}).get("instructions_per_inference")
                                       or {}).get("mean"),
        "seconds": {k: round(v, 1) for k, v in times.items()},
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
