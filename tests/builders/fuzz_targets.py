"""What a fuzzer does with one input, per parser, and where its seed files come from.

``exercise(parser, data)`` runs the input through what a user runs: for a model file
``read_model`` (the reader and its validation), ``inspect``'s prepare and ``summarize``, ``Model``
(``load``: every kernel's prepare) and one run on zeros; a warning before the run counts as a
finding; for a WAV file ``read_wav``. It returns "accept" or
raises: a :class:`MicroforgeError` is a clean reject, anything else a finding.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from tests.oracle import MODELS

DATA = MODELS.parent / "data"
PARSERS = ("tflite", "onnx", "keras", "wav")
# Do not run a model whose inputs and outputs on one sample pass this (the run is part of the
# check, not a benchmark).
RUN_BYTES = 16 << 20


# Seed files up to this size are the campaign's (``small``): a mutant of a small model costs
# milliseconds where one of person_detect or dtln (0.3 MB) costs seconds when accepted, and the
# fuzzer's coverage comes from the file structure, which the small ones share.
SMALL_SEED_BYTES = 50 << 10


def seed_files(parser: str, generated: Path | None = None, small: bool = False) -> list[Path]:
    """Seed files of ``parser``: the shared models and clips (TFLite: with the feature seed
    ``features_int8.tflite``: two subgraphs, metadata, a description, six int8 op kinds), or the
    ONNX / Keras files that ``benchmarks/fuzz_seeds.py`` wrote into ``generated``, else the
    committed ones in ``tests/fuzz/seeds``; with ``small``, those up to SMALL_SEED_BYTES."""
    here = Path(__file__).resolve().parents[1] / "fuzz" / "seeds"
    folder = generated if generated is not None and generated.is_dir() else here
    if parser == "wav":
        return sorted((DATA / "micro_speech").glob("*.wav"))
    if parser == "tflite":
        files = sorted(MODELS.glob("*.tflite")) + sorted(folder.glob("*.tflite"))
    else:
        suffixes = {"onnx": (".onnx",), "keras": (".h5", ".keras")}[parser]
        files = sorted(p for p in folder.iterdir() if p.suffix in suffixes)
    return [p for p in files if not small or p.stat().st_size <= SMALL_SEED_BYTES]


def exercise_model(data: bytes) -> str:
    from microforge.api import Model
    from microforge.frontends import read_model
    from microforge.report.summary import summarize
    from microforge.runtime.registry import prepare_supported

    with warnings.catch_warnings():  # reading and preparing a file warns about nothing
        warnings.simplefilter("error")
        graph = read_model(data)
        prepare_supported(graph.main)  # what inspect runs
        summarize(graph)
        model = Model(graph, threads=1)
    sizes = [int(np.prod(i.shape, dtype=np.int64)) * np.dtype(i.dtype).itemsize
             for i in model.inputs + model.outputs]
    if sum(sizes) <= RUN_BYTES:
        model.run([np.zeros(i.shape, i.dtype) for i in model.inputs] if model.inputs else [])
    return "accept"


def exercise_wav(data: bytes) -> str:
    from microforge.apps.audio.wav import read_wav

    fd, name = tempfile.mkstemp(suffix=".wav")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        read_wav(name)
    finally:
        os.unlink(name)
    return "accept"


def exercise(parser: str, data: bytes) -> str:
    """Run one input of ``parser``; "accept", or the exception it raised."""
    return exercise_wav(data) if parser == "wav" else exercise_model(data)
