"""``microforge kws``: keyword spotting in a WAV file (preprocessor model + classifier)."""

from __future__ import annotations

import argparse

from microforge.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "kws",
        help="spot keywords in a 16-bit mono WAV file",
        description="Run a preprocessor model (e.g. micro_speech's audio_preprocessor_int8.tflite) "
        "and a classifier over a WAV file as a stream and print the keywords detected, with times.",
    )
    p.add_argument("wav", help="16-bit PCM mono WAV file at the preprocessor's sample rate")
    p.add_argument("--preprocessor", required=True, help="feature model .tflite (int16 window in)")
    p.add_argument("--model", required=True, help="classifier .tflite")
    p.add_argument("--labels", required=True,
                   help="comma-separated labels of the classifier outputs, e.g. silence,unknown,yes,no")
    p.add_argument("--sample-rate", type=int, default=16000, help="Hz (default 16000)")
    p.add_argument("--stride-ms", type=float, default=20.0, help="feature stride (default 20)")
    p.add_argument("--threshold", type=int, default=200,
                   help="detection threshold on the 0..255 averaged score (default 200)")
    p.add_argument("--average-ms", type=int, default=1000,
                   help="posterior averaging window (default 1000)")
    p.add_argument("--suppression-ms", type=int, default=1500,
                   help="no repeat of a keyword within this time (default 1500)")
    p.add_argument("--min-count", type=int, default=3,
                   help="results needed in the averaging window (default 3)")
    p.add_argument("--ignore", default="silence,unknown",
                   help="labels not reported (default silence,unknown)")
    p.add_argument("--scores", action="store_true", help="also print every window's scores")
    p.set_defaults(func=main)


def _labels(text: str, option: str) -> list[str]:
    labels = [s.strip() for s in text.split(",")]
    if option == "--labels" and (not all(labels) or len(set(labels)) != len(labels)):
        raise UsageError(f"--labels {text!r}: give distinct non-empty labels separated by commas")
    return [s for s in labels if s]


def main(args: argparse.Namespace) -> int:
    from microforge.apps.audio import FeatureExtractor, KeywordSpotter, read_wav

    labels = _labels(args.labels, "--labels")
    if args.threshold < 0 or args.average_ms <= 0 or args.suppression_ms < 0 or args.min_count < 1:
        raise UsageError("--threshold, --average-ms, --suppression-ms, --min-count must be positive")
    samples, rate = read_wav(args.wav, args.sample_rate)
    fx = FeatureExtractor(args.preprocessor, sample_rate=rate, stride_ms=args.stride_ms)
    kws = KeywordSpotter(
        fx, args.model, labels, average_window_ms=args.average_ms,
        detection_threshold=args.threshold, suppression_ms=args.suppression_ms,
        minimum_count=args.min_count, ignore=_labels(args.ignore, "--ignore"),
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
