"""``microforge audio`` end to end on a tiny set: synth -> train (1 epoch) -> int8 model directory
-> eval, classify -> ``kws --model DIR`` on a generated stream -> ``compile --app kws --model DIR
--verify``, whose C program prints exactly what ``microforge kws`` prints."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from microforge.apps.audio import read_wav
from microforge.cli import main as microforge_main
from microforge.train.synth import write_wav
from microforge.train.tune import AVERAGE_MS, THRESHOLDS
from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import MODELS

PREPROCESSOR = MODELS / "audio_preprocessor_int8.tflite"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="needs espeak-ng (apt-get install espeak-ng, see .ci/run)")


def run(*args) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = microforge_main([str(a) for a in args])
    return code, buf.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """A data set (2 keywords) and a model directory trained on it for one epoch."""
    pytest.importorskip("keras", reason="needs Keras/TensorFlow: the 'train' extra")
    if shutil.which("espeak-ng") is None:
        pytest.skip("needs espeak-ng (apt-get install espeak-ng, see .ci/run)")
    root = tmp_path_factory.mktemp("audio")
    data, model = root / "data", root / "model"
    code, out = run("audio", "synth", "--keywords", "go,stop", "-o", data, "--per-keyword", 24,
                    "--seed", 5, "--quiet")
    assert code == 0 and "wrote 84 clips" in out, out
    code, out = run("audio", "train", data, "-o", model, "--preprocessor", PREPROCESSOR,
                    "--arch", "cnn", "--epochs", 1, "--target", "host", "--json")
    assert code == 0
    card = json.loads(out)
    assert card["labels"] == ["silence", "unknown", "go", "stop"] and card["epochs_run"] == 1
    return data, model


@pytest.mark.slow
def test_train_writes_a_model_directory_and_card(trained):
    _, model = trained
    for f in ("model.keras", "model_float.tflite", "model_int8.tflite", "preprocessor.tflite",
              "labels.txt", "model_card.md", "model_card.json"):
        assert (model / f).is_file(), f
    assert (model / "labels.txt").read_text().split() == ["silence", "unknown", "go", "stop"]
    card = json.loads((model / "model_card.json").read_text())
    test = card["test"]
    assert sum(map(sum, test["int8"]["confusion"])) == card["data"]["test"] > 0
    assert 0 <= test["int8"]["accuracy"] <= 1
    assert card["deploy"]["arena_bytes"] > 0 and card["deploy"]["const_bytes"] > 0
    held = set(card["data"]["held_out_speakers"])
    manifest = (trained[0] / "manifest.csv").read_text()
    assert held and all(s in manifest for s in held)
    assert "| truth \\ predicted | silence | unknown | go | stop |" in (model / "model_card.md").read_text()
    rec = card["recognizer"]  # chosen on a stream of the validation voices' keywords
    assert rec["keywords"] > 0 and rec["threshold"] in THRESHOLDS and rec["average_ms"] in AVERAGE_MS
    assert "## Recognizer" in (model / "model_card.md").read_text()


@pytest.mark.slow
def test_eval_reports_the_held_out_figures_of_the_card(trained, tmp_path):
    data, model = trained
    card = json.loads((model / "model_card.json").read_text())
    held = set(card["data"]["held_out_speakers"])
    rows = [line.split(",") for line in (data / "manifest.csv").read_text().splitlines()[1:]]
    for row in rows:  # a copy of the held-out clips only
        f, variant = row[0], row[5]
        if variant in held or f in held:
            (tmp_path / Path(f).parent).mkdir(exist_ok=True)
            shutil.copy(data / f, tmp_path / f)
    code, out = run("audio", "eval", model, tmp_path, "--json")
    r = json.loads(out)
    assert code == 0 and r["clips"] == card["data"]["test"]
    assert r["confusion"] == card["test"]["int8"]["confusion"]
    code, out = run("audio", "eval", model, tmp_path)
    assert code == 0 and "clips/s" in out and "| go |" in out


def stream(data: Path) -> np.ndarray:
    """silence, go, silence, stop, silence (from the synthesized clips)."""
    go, _ = read_wav(sorted((data / "go").glob("*.wav"))[0])
    stop, _ = read_wav(sorted((data / "stop").glob("*.wav"))[0])
    quiet = np.zeros(16000, np.int16)
    return np.concatenate([quiet, go, quiet, stop, quiet])


@pytest.mark.slow
def test_kws_and_the_compiled_app_on_a_model_directory(trained, tmp_path):
    data, model = trained
    wav = tmp_path / "stream.wav"
    write_wav(wav, stream(data))
    code, spotted = run("kws", "--model", model, "--scores", wav)
    assert code == 0
    lines = spotted.splitlines()
    assert lines[0].split() == ["time_ms", "silence", "unknown", "go", "stop"]
    assert lines[-1].endswith("(201 windows of 49 frames)")
    code, out = run("compile", "--app", "kws", "--model", model, "-o", tmp_path / "app", "--verify", 3,
                    "--json")
    assert code == 0
    summary = json.loads(out)
    libs = summary["libraries"]
    assert all(lib["differing_bytes"] == 0 and lib["verified"] >= 3 for lib in libs.values()), libs
    subprocess.run(["make", "-s", "-C", str(tmp_path / "app")], check=True, capture_output=True)
    proc = subprocess.run([str(tmp_path / "app" / "kws_app"), "--scores", str(wav)],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == spotted


@pytest.mark.slow
def test_classify_prints_scores_over_time(trained):
    data, model = trained
    clip = sorted((data / "go").glob("*.wav"))[0]
    code, out = run("audio", "classify", model, clip, "--json")
    r = json.loads(out)
    assert code == 0 and r["labels"] == ["silence", "unknown", "go", "stop"]
    assert len(r["times_ms"]) == 1 and all(0 <= v <= 255 for v in r["scores"][0])
    code, out = run("audio", "classify", model, clip)
    assert code == 0 and out.splitlines()[-1].startswith("most likely over the clip:")


@needs_espeak
def test_errors_are_one_line(tmp_path):
    code, _, err = cli("audio", "train", tmp_path / "none", "-o", tmp_path / "m", "--preprocessor",
                       PREPROCESSOR)
    assert_one_line_error(code, err, 2, "not a directory")
    code, _, err = cli("audio", "eval", tmp_path, tmp_path)
    assert_one_line_error(code, err, 2, "not a trained model directory")
    code, _, err = cli("audio", "synth", "--keywords", "a,a", "-o", tmp_path / "d")
    assert_one_line_error(code, err, 2, "distinct")
    code, _, err = cli("kws", "--model", MODELS / "micro_speech_quantized.tflite", tmp_path / "x.wav")
    assert_one_line_error(code, err, 2, "--preprocessor and --labels")
    code, _, err = cli("kws", "--model", tmp_path, tmp_path / "x.wav")
    assert_one_line_error(code, err, 2, "not a trained model directory", "labels.txt")
