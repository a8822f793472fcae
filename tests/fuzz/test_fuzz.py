"""The fuzz harness in the normal test run (issue 15): a short fixed-seed coverage-guided run of
each parser (atheris, ``tests/fuzz/atheris_fuzz.py``), and every input a fuzzer ever broke a
parser with (``tests/fuzz/corpus/<parser>/``, each named for what it used to raise) kept as a
regression test: read, inspected, prepared and run, it is accepted or a clean MicroforgeError.

The long campaign (>= 100,000 mutants per parser, with hangs, crashes and memory measured in
worker processes) is ``benchmarks/fuzz_campaign.py``; docs/hostile-inputs.md has its figures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microforge.errors import MicroforgeError
from tests.builders.fuzz_targets import DATA, PARSERS, exercise
from tests.oracle import MODELS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = sorted(p for p in (HERE / "corpus").glob("*/*") if p.suffix != ".py")
# Small seeds, so the fixed-seed run takes seconds: the big shared models are the campaign's.
SEEDS = {
    "tflite": [MODELS / "hello_world_int8.tflite", MODELS / "micro_speech_quantized.tflite",
               MODELS / "simple_add_model.tflite"],
    "onnx": sorted((HERE / "seeds").glob("*.onnx")),
    "keras": sorted((HERE / "seeds").glob("*.h5")) + sorted((HERE / "seeds").glob("*.keras")),
    "wav": [DATA / "micro_speech" / "yes_1000ms.wav"],
}
RUNS = {"tflite": 150, "onnx": 80, "keras": 25, "wav": 300}


@pytest.mark.parametrize("parser", PARSERS)
def test_a_short_coverage_guided_run_finds_nothing(parser, tmp_path):
    pytest.importorskip("atheris", reason="atheris not installed (optional extra [test])")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in SEEDS[parser]:
        shutil.copy(seed, corpus)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
           "MICROFORGE_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.fuzz.atheris_fuzz", parser, f"-runs={RUNS[parser]}", "-seed=1",
         "-timeout=60", "-rss_limit_mb=4096", f"-artifact_prefix={tmp_path}/", str(corpus)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    found = sorted(p.name for p in tmp_path.glob("crash-*")) + sorted(
        p.name for p in tmp_path.glob("timeout-*"))
    assert proc.returncode == 0 and not found, (found, proc.stderr[-4000:])
    assert f"Done {RUNS[parser]} runs" in proc.stderr


@pytest.mark.parametrize("path", CORPUS, ids=[f"{p.parent.name}/{p.name}" for p in CORPUS])
def test_a_corpus_input_is_accepted_or_cleanly_rejected(path):
    try:
        exercise(path.parent.name, path.read_bytes())
    except MicroforgeError as exc:
        assert "\n" not in str(exc)
