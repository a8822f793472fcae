"""The ``--app`` options of ``microforge compile`` (parsing only; the work is in ``kws.py``)."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from microforge.errors import InputError, ModelError, UsageError


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``--app`` options of ``microforge compile``."""
    p.add_argument("--app", choices=["kws"], default=None,
                   help="generate an example application instead of one library: kws = keyword "
                        "spotting (needs --preprocessor, --model, --labels)")
    g = p.add_argument_group("--app kws (the options of `microforge kws`)")
    g.add_argument("--preprocessor", help="feature model .tflite (int16 window in)")
    g.add_argument("--model", dest="app_model", help="classifier .tflite")
    g.add_argument("--labels", help="comma-separated labels of the classifier outputs")
    g.add_argument("--sample-rate", type=int, default=16000, help="Hz (default 16000)")
    g.add_argument("--stride-ms", type=float, default=20.0, help="feature stride (default 20)")
    g.add_argument("--threshold", type=int, default=200,
                   help="detection threshold on the 0..255 averaged score (default 200)")
    g.add_argument("--average-ms", type=int, default=1000,
                   help="posterior averaging window (default 1000)")
    g.add_argument("--suppression-ms", type=int, default=1500,
                   help="no repeat of a keyword within this time (default 1500)")
    g.add_argument("--min-count", type=int, default=3,
                   help="results needed in the averaging window (default 3)")
    g.add_argument("--ignore", default="silence,unknown",
                   help="labels not reported (default silence,unknown)")


def _labels(text: str | None, option: str) -> list[str]:
    from microforge.commands.kws import _labels as parse

    if text is None:
        raise UsageError(f"--app kws needs {option}")
    return parse(text, option)


def run(args: argparse.Namespace) -> int:
    """``microforge compile --app kws ...`` (called by ``commands/compile.py``)."""
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
    if args.preprocessor is None or classifier is None:
        raise UsageError("--app kws needs --preprocessor P.tflite and --model M.tflite")
    if args.target != "host":
        raise InputError("--app kws builds for the host only; compile the two models "
                         "separately for a Cortex-M target")
    if args.verify < 0:
        raise InputError("--verify takes a number of inputs >= 0")
    if args.threshold < 0 or args.average_ms <= 0 or args.suppression_ms < 0 or args.min_count < 1:
        raise UsageError("--threshold, --average-ms, --suppression-ms, --min-count must be positive")
    settings = KwsSettings(
        labels=_labels(args.labels, "--labels"), sample_rate=args.sample_rate,
        stride_ms=args.stride_ms, threshold=args.threshold, average_ms=args.average_ms,
        suppression_ms=args.suppression_ms, min_count=args.min_count,
        ignore=_labels(args.ignore, "--ignore"),
    )
    app = generate_kws_app(args.preprocessor, classifier, args.output, settings,
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


