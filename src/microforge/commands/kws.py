"""``microforge kws``: keyword spotting in a WAV file (preprocessor model + classifier), and
``microforge compile --app kws``: the same spotter as a C program. Both take the spotter options
added by :func:`add_spotter_options`."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from microforge.errors import InputError, ModelError, UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "kws",
        help="spot keywords in a 16-bit mono WAV file",
        description="Run a preprocessor model (e.g. micro_speech's audio_preprocessor_int8.tflite) "
        "and a classifier over a WAV file as a stream and print the keywords detected, with times.",
    )
    p.add_argument("wav", help="16-bit PCM mono WAV file at the preprocessor's sample rate")
    p.add_argument("--preprocessor", help="feature model .tflite (int16 window in); not needed "
                   "with a model directory")
    p.add_argument("--model", required=True, help="classifier .tflite, or a model directory "
                   "written by `microforge audio train` (its preprocessor, int8 model and labels)")
    p.add_argument("--labels", help="comma-separated labels of the classifier outputs, e.g. "
                   "silence,unknown,yes,no (default with a model directory: its labels.txt)")
    add_spotter_options(p)
    p.add_argument("--scores", action="store_true", help="also print every window's scores")
    p.set_defaults(func=main)


def add_spotter_options(p) -> None:
    """The feature and recognizer options shared by ``kws`` and ``compile --app kws``."""
    p.add_argument("--sample-rate", type=int, default=16000, help="Hz (default 16000)")
    p.add_argument("--stride-ms", type=float, default=20.0, help="feature stride (default 20)")
    p.add_argument("--threshold", type=int, default=None,
                   help="detection threshold on the 0..255 averaged score (default: the model "
                   "directory's, chosen on its validation voices; else 200)")
    p.add_argument("--average-ms", type=int, default=None,
                   help="posterior averaging window (default: the model directory's; else 1000)")
    p.add_argument("--suppression-ms", type=int, default=1500,
                   help="no repeat of a keyword within this time (default 1500)")
    p.add_argument("--min-count", type=int, default=3,
                   help="results needed in the averaging window (default 3)")
    p.add_argument("--ignore", default="silence,unknown",
                   help="labels not reported (default silence,unknown)")


def parse_labels(text: str, option: str) -> list[str]:
    labels = [s.strip() for s in text.split(",")]
    if option == "--labels" and (not all(labels) or len(set(labels)) != len(labels)):
        raise UsageError(f"--labels {text!r}: give distinct non-empty labels separated by commas")
    return [s for s in labels if s]


def resolve_models(args: argparse.Namespace, model: str | None) -> tuple[str | None, str | None]:
    """(preprocessor, classifier) paths; a model directory from ``audio train`` fills in the
    preprocessor, the int8 classifier and ``args.labels`` (from labels.txt) unless given."""
    from microforge.train.evaluate import open_model_dir

    if model is None or not Path(model).is_dir():
        _recognizer_defaults(args, {})
        return args.preprocessor, model
    md = open_model_dir(model)
    if args.labels is None:
        args.labels = ",".join(md.labels)
    _recognizer_defaults(args, md.recognizer)
    return args.preprocessor or str(md.preprocessor), str(md.int8)


def _recognizer_defaults(args: argparse.Namespace, chosen: dict) -> None:
    """--threshold and --average-ms when not given: the model directory's (chosen on its
    validation split by ``audio train``), else micro_speech's 200 and 1000 ms."""
    if args.threshold is None:
        args.threshold = int(chosen.get("threshold", 200))
    if args.average_ms is None:
        args.average_ms = int(chosen.get("average_ms", 1000))


def _check_spotter_options(args: argparse.Namespace) -> None:
    if args.threshold < 0 or args.average_ms <= 0 or args.suppression_ms < 0 or args.min_count < 1:
        raise UsageError("--threshold, --average-ms, --suppression-ms, --min-count must be positive")


def main(args: argparse.Namespace) -> int:
    from microforge.apps.audio import FeatureExtractor, KeywordSpotter, read_wav

    preprocessor, classifier = resolve_models(args, args.model)
    if preprocessor is None or args.labels is None:
        raise UsageError("kws needs --preprocessor and --labels with a classifier .tflite (or "
                         "--model MODEL_DIR from `microforge audio train`)")
    labels = parse_labels(args.labels, "--labels")
    _check_spotter_options(args)
    samples, rate = read_wav(args.wav, args.sample_rate)
    fx = FeatureExtractor(preprocessor, sample_rate=rate, stride_ms=args.stride_ms)
    kws = KeywordSpotter(
        fx, classifier, labels, average_window_ms=args.average_ms,
        detection_threshold=args.threshold, suppression_ms=args.suppression_ms,
        minimum_count=args.min_count, ignore=parse_labels(args.ignore, "--ignore"),
    )
    events = kws.detect(samples)
    if args.scores:
        print("time_ms  " + "  ".join(f"{lab:>8s}" for lab in labels))
        for t, s in kws.results:
            print(f"{t:7d}  " + "  ".join(f"{int(v):8d}" for v in s.tolist()))
    width = max((len(e.label) for e in events), default=0)
    for e in events:
        print(f"{e.time_ms / 1000:8.2f} s  {e.label:<{width}s}  score {e.score}")
    seconds = len(samples) / rate
    print(f"{len(events)} keyword{'s' if len(events) != 1 else ''} in {seconds:.2f} s of audio "
          f"({len(kws.results)} windows of {kws.window_frames} frames)")
    return 0


def compile_app(args: argparse.Namespace) -> int:
    """``microforge compile --app kws ...`` (``compile`` hands over when ``--app`` is given)."""
    from microforge.apps.audio.firmware import (
        APP_BINARY,
        KwsSettings,
        build_app,
        generate_kws_app,
        print_summary,
        summary,
    )

    if args.app is None:
        raise UsageError("compile needs a model file (or --app kws with --preprocessor, --model "
                         "and --labels)")
    classifier = args.app_model
    if args.model is not None:
        if classifier is not None:
            raise UsageError("--app kws: give the classifier once (--model)")
        classifier = args.model
    preprocessor, classifier = resolve_models(args, classifier)
    if preprocessor is None or classifier is None:
        raise UsageError("--app kws needs --preprocessor P.tflite and --model M.tflite")
    if args.target != "host":
        raise InputError("--app kws builds for the host only; compile the two models "
                         "separately for a Cortex-M target")
    if args.verify < 0:
        raise InputError("--verify takes a number of inputs >= 0")
    _check_spotter_options(args)
    if args.labels is None:
        raise UsageError("--app kws needs --labels")
    settings = KwsSettings(
        labels=parse_labels(args.labels, "--labels"), sample_rate=args.sample_rate,
        stride_ms=args.stride_ms, threshold=args.threshold, average_ms=args.average_ms,
        suppression_ms=args.suppression_ms, min_count=args.min_count,
        ignore=parse_labels(args.ignore, "--ignore"),
    )
    app = generate_kws_app(preprocessor, classifier, args.output, settings,
                           name=args.name or "kws", force=args.force, verify_n=args.verify,
                           sanitize=args.sanitize)
    if args.verify:
        with tempfile.TemporaryDirectory(prefix="microforge-kws-") as tmp:
            build_app(app.directory, Path(tmp) / APP_BINARY, sanitize=args.sanitize)
    result = summary(app, args.verify)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_summary(result)
    bad = {k: c for k, c in app.checks.items() if not c.ok}
    if bad:
        lib, check = next(iter(bad.items()))
        raise ModelError(f"verification of {lib} failed: {check.differing_bytes} differing bytes "
                         f"over {check.samples} inputs (first: {check.first_difference})")
    return 0
