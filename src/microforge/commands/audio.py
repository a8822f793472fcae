"""``microforge audio synth|train|eval|classify``: make your own keyword or sound classifier
(docs/audio-train.md)."""

from __future__ import annotations

import argparse
import json
import sys

from microforge.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("audio", help="synthesize keyword data, train, evaluate and run an audio "
                       "classifier",
                       description="Make your own keyword or sound model: synthesize data with "
                       "espeak-ng, train on the micro_speech front end's features (Keras, the "
                       "train extra), quantize int8, evaluate, classify.")
    s = p.add_subparsers(dest="audio_command", required=True, parser_class=type(p))

    q = s.add_parser("synth", help="keyword clips spoken by espeak-ng, _unknown_ words, _silence_ "
                     "noises: DATA/<label>/*.wav, 16 kHz mono, 1 s")
    q.add_argument("--keywords", required=True, help="comma-separated words, e.g. on,off,go,stop")
    q.add_argument("-o", "--output", required=True, help="data directory to write")
    q.add_argument("--per-keyword", type=int, default=200, help="clips per keyword (default 200; "
                   "as many _unknown_, half as many _silence_)")
    q.add_argument("--unknown", type=int, default=None, help="_unknown_ clips (default: per keyword)")
    q.add_argument("--silence", type=int, default=None,
                   help="_silence_ clips (default: half per keyword)")
    q.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    q.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    q.add_argument("--quiet", action="store_true", help="no progress")
    q.set_defaults(func=synth)

    q = s.add_parser("train", help="train a classifier on folder-per-class WAV files, quantize it "
                     "int8 and write MODEL_DIR")
    q.add_argument("data", help="folder with one sub-folder of WAV files per class")
    q.add_argument("-o", "--output", required=True, help="model directory to write")
    q.add_argument("--preprocessor", required=True,
                   help="int8 feature model, e.g. micro_speech's audio_preprocessor_int8.tflite "
                   "(copied into the model directory)")
    q.add_argument("--arch", default="ds-cnn", choices=["ds-cnn", "cnn"],
                   help="ds-cnn (MLPerf Tiny's DS-CNN-S) or cnn (smaller, micro_speech-sized)")
    q.add_argument("--epochs", type=int, default=30, help="at most this many (early stopping)")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--warmup", type=int, default=2, help="background clips (1 s each) the front end "
                   "runs over before each clip, so features are those of a stream (default 2)")
    q.add_argument("--context", type=float, default=1.0, help="extra training windows per keyword "
                   "clip, cut at a random shift from the clip between other clips (default 1)")
    q.add_argument("--target", default="cortex-m4", help="compile target of the model card's "
                   "estimates (default cortex-m4; host for no cross-compiler)")
    q.add_argument("--force", action="store_true", help="write into a non-empty directory")
    q.add_argument("--json", action="store_true", help="print the model card as JSON, no progress")
    q.set_defaults(func=train)

    q = s.add_parser("eval", help="accuracy and confusion matrix of a trained int8 model on data")
    q.add_argument("model_dir")
    q.add_argument("data", help="folder-per-class WAV files (folders named as the labels)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=evaluate)

    q = s.add_parser("classify", help="scores over time of a trained model on a WAV file")
    q.add_argument("model_dir")
    q.add_argument("wav")
    q.add_argument("--hop-ms", type=int, default=100, help="one line per this many ms (default 100)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=classify)


def _progress(label: str):
    def show(i: int, n: int) -> None:
        end = "\n" if i == n else ""
        print(f"\r{label} {i}/{n}", end=end, file=sys.stderr, flush=True)
    return show


def synth(args: argparse.Namespace) -> int:
    from microforge.train.synth import SynthOptions, synthesize

    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    opts = SynthOptions(args.keywords.split(","), per_keyword=args.per_keyword, unknown=args.unknown,
                        silence=args.silence, seed=args.seed, jobs=args.jobs)
    rows = synthesize(args.output, opts, progress=None if args.quiet else _progress("synth"))
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["label"]] = counts.get(r["label"], 0) + 1
    voices = len({r["voice"] for r in rows if r["voice"] != "noise"})
    print(f"wrote {len(rows)} clips to {args.output}/ (" + ", ".join(f"{k} {v}" for k, v in
          sorted(counts.items())) + f"; {voices} voices) and manifest.csv")
    return 0


def train(args: argparse.Namespace) -> int:
    from microforge.train.pipeline import train as run

    if args.epochs < 1:
        raise UsageError("--epochs must be at least 1")
    if args.warmup < 0 or args.context < 0:
        raise UsageError("--warmup and --context must be at least 0")
    log = (lambda m: None) if args.json else (lambda m: print(m, file=sys.stderr, flush=True))
    card = run(args.data, args.output, args.preprocessor, arch=args.arch, epochs=args.epochs,
               seed=args.seed, target=args.target, warmup=args.warmup, context=args.context,
               force=args.force, log=log)
    if args.json:
        print(json.dumps(card, indent=1))
        return 0
    t, d = card["test"], card["deploy"]
    print(f"wrote {args.output}/: model.keras, model_float.tflite, model_int8.tflite, "
          "preprocessor.tflite, labels.txt, model_card.md/.json")
    print(f"held-out voices: int8 accuracy {t['int8']['accuracy']:.2%} (float "
          f"{t['float']['accuracy']:.2%}, Keras {t['keras']['accuracy']:.2%}) on "
          f"{card['data']['test']} clips")
    print(f"{d.get('target')}: RAM {d.get('ram_bytes', 0):,} B, flash "
          f"{(d.get('flash_bytes') or d.get('const_bytes', 0) + d.get('code_bytes', 0)):,} B, "
          f"{d.get('macs', 0):,} MACs per inference")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from microforge.train.card import confusion_table
    from microforge.train.evaluate import evaluate as run

    r = run(args.model_dir, args.data)
    if args.json:
        print(json.dumps(r, indent=1))
        return 0
    print(f"accuracy {r['accuracy']:.2%} on {r['clips']} clips (int8 model, microforge runtime); "
          f"{r['clips_per_second']:.0f} clips/s with features ({r['model_clips_per_second']:.0f} "
          "clips/s classifier only)")
    print("\n".join(confusion_table(r["labels"], r["confusion"])))
    return 0


def classify(args: argparse.Namespace) -> int:
    from microforge.train.evaluate import classify as run

    if args.hop_ms < 1:
        raise UsageError("--hop-ms must be at least 1")
    r = run(args.model_dir, args.wav, args.hop_ms)
    if args.json:
        print(json.dumps(r, indent=1))
        return 0
    print("time_ms  " + "  ".join(f"{lab:>8s}" for lab in r["labels"]))
    for t, s in zip(r["times_ms"], r["scores"]):
        print(f"{t:7d}  " + "  ".join(f"{v:8d}" for v in s))
    print(f"most likely over the clip: {r['top']}")
    return 0
