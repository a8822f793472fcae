"""``microforge compile --app kws``: the compiled preprocessor gives the Python pipeline's (and
TFLM's) 49x40 features on the micro_speech clips byte for byte, the compiled classifier the same
scores, and the generated kws_app prints exactly what ``microforge kws`` prints, on the clips and
on a silence/yes/silence/no/silence stream, from WAV files and raw PCM on stdin."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from microforge.apps.audio import FeatureExtractor, KeywordSpotter
from microforge.apps.audio.firmware import KwsSettings, build_app, generate_kws_app
from microforge.cli import main as microforge_main
from microforge.frontends.tflite.reader import read_tflite
from microforge.targets.host import build_harness
from tests.builders.audio import (
    CLASSIFIER,
    CLIPS,
    EXPECTED,
    LABELS,
    PREPROCESSOR,
    clip,
    placed_words,
    tflm_features,
)
from tests.builders.cli import assert_one_line_error, cli
from tests.oracle import tflm_runtime

KINDS = ["int8", "float"]


def write_wav(path: Path, samples: np.ndarray, channels: int = 1, width: int = 2,
              rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(samples.tobytes())
    return path


@pytest.fixture(scope="module")
def apps(tmp_path_factory) -> dict[str, Path]:
    """The generated app directory (with its built kws_app) of each preprocessor kind."""
    out = {}
    for kind in KINDS:
        d = tmp_path_factory.mktemp(f"kws_{kind}")
        app = generate_kws_app(PREPROCESSOR[kind], CLASSIFIER, d / "app",
                               KwsSettings(labels=LABELS))
        build_app(app.directory)
        out[kind] = app.directory
    return out


@pytest.fixture(scope="module")
def wavs(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("wavs")
    files = {name: write_wav(d / f"{name}.wav", clip(name)) for name in CLIPS}
    files["stream"] = write_wav(d / "stream.wav", placed_words()[0])
    return files


def run_library(app_dir: Path, lib: str, model: Path, inputs: np.ndarray, reset_every: int,
                work: Path) -> np.ndarray:
    """One library of the app directory through the verify harness (kws_app.c left out)."""
    graph = read_tflite(model)
    src = work / "src"
    shutil.copytree(app_dir, src, ignore=shutil.ignore_patterns("kws_app.c", "kws_app"))
    exe = build_harness(src, lib, graph, work)
    (work / "in.bin").write_bytes(np.ascontiguousarray(inputs).tobytes())
    proc = subprocess.run([str(exe), str(work / "in.bin"), str(work / "out.bin"),
                           str(len(inputs)), str(reset_every)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = graph.main.tensors[graph.main.outputs[0]]
    return np.fromfile(work / "out.bin", out.dtype).reshape((len(inputs),) + out.shape)


def c_features(apps, kind: str, work: Path) -> np.ndarray:
    """(clips, 49, 40) features of the four clips from the compiled preprocessor, reset per clip."""
    windows = np.stack([clip(c)[start:start + 480] for c in CLIPS for start in range(0, 49 * 320, 320)])
    feats = run_library(apps[kind], "kws_features", PREPROCESSOR[kind], windows.reshape(-1, 1, 480),
                        49, work)
    return feats.reshape(len(CLIPS), 49, 40)


@pytest.mark.parametrize("kind", KINDS)
def test_compiled_preprocessor_gives_the_python_features(apps, kind, tmp_path):
    got = c_features(apps, kind, tmp_path)
    want = FeatureExtractor(PREPROCESSOR[kind]).extract(np.stack([clip(c) for c in CLIPS]))
    assert got.shape == want.shape == (4, 49, 40)
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("kind", KINDS)
def test_compiled_preprocessor_gives_tflm_features(apps, kind, tmp_path):
    tflm_runtime()
    got = c_features(apps, kind, tmp_path)
    for k, name in enumerate(CLIPS):
        want = tflm_features(PREPROCESSOR[kind], clip(name))
        np.testing.assert_array_equal(got[k].view(np.uint8), want.view(np.uint8))


def test_compiled_classifier_gives_the_python_scores(apps, tmp_path):
    features = c_features(apps, "int8", tmp_path / "f")
    got = run_library(apps["int8"], "kws_model", CLASSIFIER, features.reshape(4, 1, 1960), 0,
                      tmp_path / "m")
    spotter = KeywordSpotter(FeatureExtractor(PREPROCESSOR["int8"]), CLASSIFIER, LABELS)
    np.testing.assert_array_equal(got.reshape(4, 4), spotter.classify(features))
    assert got.reshape(4, 4).tolist() == [EXPECTED[c] for c in CLIPS]


def microforge_kws(kind: str, wav: Path) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = microforge_main(["kws", "--scores", "--preprocessor", str(PREPROCESSOR[kind]),
                                "--model", str(CLASSIFIER), "--labels", ",".join(LABELS),
                                str(wav)])
    assert code == 0
    return buf.getvalue()


def kws_app(app_dir: Path, *args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(app_dir / "kws_app"), *map(str, args)], input=stdin,
                          capture_output=True, timeout=120)


@pytest.mark.parametrize("kind", KINDS)
def test_app_prints_what_microforge_kws_prints(apps, wavs, kind):
    for name, path in wavs.items():
        proc = kws_app(apps[kind], "--scores", path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.decode() == microforge_kws(kind, path), name
    lines = kws_app(apps[kind], wavs["stream"]).stdout.decode().splitlines()
    assert [line.split()[2] for line in lines[:-1]] == ["yes", "no"]
    assert lines[-1] == "2 keywords in 5.00 s of audio (201 windows of 49 frames)"


def test_app_reads_raw_pcm_from_stdin(apps, wavs):
    audio = placed_words()[0]
    raw = kws_app(apps["int8"], "-s", "-", stdin=audio.astype("<i2").tobytes())
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout.decode() == microforge_kws("int8", wavs["stream"])
    piped = kws_app(apps["int8"], stdin=wavs["stream"].read_bytes())
    assert piped.stdout == kws_app(apps["int8"], wavs["stream"]).stdout


def test_app_under_sanitizers(apps, wavs, tmp_path):
    exe = build_app(apps["int8"], tmp_path / "kws_app", sanitize=True)
    proc = subprocess.run([str(exe), "-s", str(wavs["stream"])], capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == microforge_kws("int8", wavs["stream"])


@pytest.mark.parametrize("channels,width,rate,message", [
    (2, 2, 16000, "2 channels"), (1, 1, 16000, "8-bit samples"), (1, 2, 8000, "sample rate 8000"),
])
def test_app_refuses_other_wav_formats(apps, tmp_path, channels, width, rate, message):
    samples = np.zeros(1600 * channels, np.int16 if width == 2 else np.uint8)
    path = write_wav(tmp_path / "x.wav", samples, channels, width, rate)
    proc = kws_app(apps["int8"], path)
    assert proc.returncode == 2
    assert message in proc.stderr.decode() and proc.stdout == b""


def test_makefile_builds_the_app(apps, tmp_path):
    shutil.copytree(apps["int8"], tmp_path / "app", ignore=shutil.ignore_patterns("kws_app"))
    proc = subprocess.run(["make", "-s", "-C", str(tmp_path / "app")], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "app" / "kws_app").is_file()


def test_cli_compile_app(tmp_path):
    out = tmp_path / "kws"
    code, stdout, err = cli("compile", "--app", "kws", "--preprocessor", PREPROCESSOR["int8"],
                            "--model", CLASSIFIER, "--labels", ",".join(LABELS), "-o", out,
                            "--verify", "20", "--json")
    assert code == 0, err
    r = json.loads(stdout)
    assert (r["window"], r["stride"], r["window_frames"]) == (480, 320, 49)
    assert r["app_built"] and {"kws_app.c", "kws_app_config.h", "kws_features.c",
                               "kws_model.c", "mf_signal.c", "Makefile"} <= set(r["files"])
    for lib in ("kws_features", "kws_model"):
        assert r["libraries"][lib]["verified"] >= 20
        assert r["libraries"][lib]["differing_bytes"] == 0
    assert r["libraries"]["kws_features"]["state_bytes"] == 160
    config = (out / "kws_app_config.h").read_text()
    assert '{"silence", "unknown", "yes", "no"}' in config and "{1, 1, 0, 0}" in config
    again = ["compile", "--app", "kws", "--preprocessor", PREPROCESSOR["int8"], "--model",
             CLASSIFIER, "--labels", ",".join(LABELS), "-o", out]
    assert cli(*again)[0] == 0  # its own files are replaced
    (out / "notes.txt").write_text("mine")
    code, _, err = cli(*again)
    assert_one_line_error(code, err, 2, "--force")


@pytest.mark.parametrize("args,words", [
    (["--app", "kws", "--preprocessor", "P", "--model", "M"], ["--labels"]),
    (["--app", "kws", "--model", "M", "--labels", "a,b"], ["--preprocessor"]),
    ([], ["model file"]),
    (["M.tflite", "--app", "kws", "--model", "M", "--preprocessor", "P", "--labels", "a"],
     ["once"]),
])
def test_cli_app_usage_errors(tmp_path, args, words):
    code, _, err = cli("compile", *args, "-o", tmp_path / "x")
    assert_one_line_error(code, err, 2, *words)


def test_recognizer_options_reach_the_program(wavs, tmp_path):
    """Non-default recognizer settings compiled into kws_app_config.h give the same output as
    `microforge kws` with the same options."""
    options = ["--threshold", "150", "--average-ms", "600", "--suppression-ms", "400",
               "--min-count", "5", "--ignore", "silence"]
    code, _, err = cli("compile", "--app", "kws", "--preprocessor", PREPROCESSOR["int8"],
                       "--model", CLASSIFIER, "--labels", ",".join(LABELS), "-o", tmp_path / "app",
                       "--name", "spot", *options)
    assert code == 0, err
    exe = build_app(tmp_path / "app")
    assert (tmp_path / "app" / "spot_features.h").is_file()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert microforge_main(["kws", "--scores", "--preprocessor", str(PREPROCESSOR["int8"]),
                                "--model", str(CLASSIFIER), "--labels", ",".join(LABELS),
                                *options, str(wavs["stream"])]) == 0
    proc = subprocess.run([str(exe), "-s", str(wavs["stream"])], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == buf.getvalue()
    assert proc.stdout.splitlines()[-1].startswith("7 keywords")  # repeats within 400 ms apart


def test_wav_with_extra_chunks(apps, wavs, tmp_path):
    """Chunks before fmt and data (LIST, odd sizes with their pad byte) are skipped."""
    data = wavs["stream"].read_bytes()
    fmt_at = data.index(b"fmt ")
    extra = b"LIST" + (5).to_bytes(4, "little") + b"abcde\0" + b"junk" + (2).to_bytes(4, "little")
    extra += b"xy"
    body = data[12:fmt_at] + extra + data[fmt_at:]
    path = tmp_path / "extra.wav"
    path.write_bytes(b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WAVE" + body)
    proc = kws_app(apps["int8"], "-s", path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == microforge_kws("int8", path)
